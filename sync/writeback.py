"""Write finished images to the store listing, keep them in the PergAI collection, settle links."""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from connectors.base import ImageWrite, WriteMode, marker_filename
from storage.claims import ClaimedRender
from storage.errors import LeaseLostError
from storage.models import ProductLink, Render, RenderStatus, Stage
from sync.context import Context, StoreRuntime
from sync.errors import RemoteError
from sync.renders import output_for, product_fields

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".gif"}


def extension_of(url: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return suffix.lstrip(".") if suffix in IMAGE_EXTENSIONS else "png"


async def fresh_result_url(ctx: Context, render: Render) -> str:
    """Return a result URL that is still valid: PergAI's signed URLs expire."""
    assert render.result_url is not None
    if not render.generation_id:
        return render.result_url

    generation = await ctx.pergai.get_generation(render.generation_id)
    return generation.result_image_path or render.result_url


async def add_to_collection(ctx: Context, store: StoreRuntime, render: Render) -> None:
    """Put the render's generation in the store's PergAI collection, creating it once."""
    if not render.generation_id or store.config.collection is None:
        return

    collection_id = await ctx.repo.get_collection_id(store.store_id)
    if collection_id is None:
        collection = await ctx.pergai.create_collection(store.config.collection)
        collection_id = collection.id
        await ctx.repo.set_collection_id(store.store_id, collection_id)

    await ctx.pergai.add_collection_item(collection_id, render.generation_id)


async def write_render(
    ctx: Context, store: StoreRuntime, claimed: ClaimedRender, mode: WriteMode | None = None
) -> None:
    """Write a completed render to the listing (status ``written``), or hold it for review."""
    render, link = claimed.render, claimed.link
    assert render.id is not None and render.result_url is not None
    mode = mode or store.config.write_mode
    if mode is None:
        await hold_for_review(ctx, store, claimed)
        return

    output = output_for(store, render.output_key)
    url = await fresh_result_url(ctx, render)
    request = ImageWrite(
        product_id=link.product_id,
        url=url,
        filename=marker_filename(render.generation_id or f"{render.id:036d}", extension_of(url)),
        alt=output.render_alt(product_fields(link)),
        mode=mode,
        variant_id=link.variant_id or None,
    )
    result = await store.connector.write_image(request)

    assert render.id is not None
    message = f"{render.output_key} written as image {result.image.id}" + (
        " (already on the listing)" if result.already_present else ""
    )
    try:
        await ctx.repo.record_render_step(
            render.id,
            ctx.owner,
            status=RenderStatus.WRITTEN,
            store_image_id=result.image.id,
            detached_ids=list(result.detached_ids),
            action="written",
            message=message,
        )
    except LeaseLostError:
        # A new source image superseded the render while the store took the image:
        # it is on the listing, so it is recorded as written rather than left unknown.
        if not await ctx.repo.record_superseded_write(
            render.id, result.image.id, list(result.detached_ids), message
        ):
            raise
    ctx.metrics.write_backs.labels(store=store.name).inc()
    logger.info(
        "wrote %s to product %s",
        render.output_key,
        link.product_id,
        extra={
            "action": "written",
            "store": store.name,
            "product": link.product_id,
            "generation": render.generation_id,
        },
    )
    await keep_in_collection(ctx, store, render)


async def keep_in_collection(ctx: Context, store: StoreRuntime, render: Render) -> None:
    """Add a written render to the collection; a failure is logged, the image is already out."""
    try:
        await add_to_collection(ctx, store, render)
    except RemoteError as error:
        logger.warning(
            "could not add generation %s to the collection: %s",
            render.generation_id,
            error,
            extra={"action": "collection_failed", "store": store.name},
        )


async def hold_for_review(ctx: Context, store: StoreRuntime, claimed: ClaimedRender) -> None:
    render = claimed.render
    assert render.id is not None
    await add_to_collection(ctx, store, render)
    await ctx.repo.record_render_step(
        render.id,
        ctx.owner,
        status=RenderStatus.REVIEW,
        # Due at once so `approve` can claim it; the engine never claims reviews itself.
        next_attempt_at=ctx.clock(),
        action="review",
        message=f"{render.output_key} is in the PergAI collection awaiting `pergai-sync approve`",
    )


def settled_stage(link: ProductLink, renders: list[Render]) -> tuple[Stage, str | None] | None:
    """Return the stage a link reaches once its renders are all finished, or None while open."""
    statuses = {render.status for render in renders}
    open_statuses = {RenderStatus.REQUESTED, RenderStatus.RUNNING, RenderStatus.COMPLETED}
    if not renders or statuses & open_statuses:
        return None

    failed = [render for render in renders if render.status is RenderStatus.FAILED]
    if failed:
        return Stage.FAILED, failed[0].reason or "an output failed"
    if RenderStatus.REVIEW in statuses:
        return Stage.WRITING, "awaiting `pergai-sync approve`"
    return Stage.DONE, None


async def settle_link(ctx: Context, link_id: int) -> None:
    """Move a rendering link on once every output of its current source image has finished."""
    link = await ctx.repo.get_link(link_id)
    if link is None or link.stage not in (Stage.RENDERING, Stage.WRITING):
        return

    renders = await ctx.repo.renders_of_link(link_id, link.source_fingerprint)
    settled = settled_stage(link, renders)
    if settled is None:
        return

    stage, reason = settled
    await ctx.repo.settle_link(link_id, link.source_fingerprint, stage, reason)
