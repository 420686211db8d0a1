"""Product link steps: filter, map the category, push the product to PergAI, plan its outputs."""

from __future__ import annotations

import logging

from connectors.base import CatalogueItem, StoreImage
from connectors.pergai.lookup import pick_product
from storage.models import ProductLink, Stage
from sync.categories import CategoryName, match_path
from sync.context import Context, StoreRuntime
from sync.errors import BadRequestError, PergaiSyncError, RemoteConnectionError
from sync.writeback import settle_link

logger = logging.getLogger(__name__)

# PergAI needs a category on every product; this one is used when nothing matches.
FALLBACK_CATEGORY = "other"


def item_of(link: ProductLink) -> CatalogueItem:
    """Rebuild the catalogue fields a filter reads from a stored product link."""
    images: tuple[StoreImage, ...] = ()
    if link.source_image_id and link.source_image_url:
        images = (StoreImage(id=link.source_image_id, url=link.source_image_url),)

    return CatalogueItem(
        product_id=link.product_id,
        title=link.title,
        updated_at=link.store_updated_at,
        status=link.store_status,
        product_type=link.product_type,
        categories=tuple(part for part in link.category_path.split(" > ") if part),
        tags=tuple(link.tags),
        images=images,
    )


async def category_for(ctx: Context, store: StoreRuntime, link: ProductLink) -> str:
    """Return the PergAI category name for the link's store category.

    Order: the store's `category_map`, a link recorded earlier, a PergAI category
    matched by English or Turkish name, a new PergAI category when
    `[pergai] create_categories` is on, else the fallback.
    """
    path = link.category_path
    override = store.config.pergai_category_for(path) if path else None
    if override:
        return override

    if not path:
        return FALLBACK_CATEGORY

    recorded = await ctx.repo.get_category_link(store.store_id, path)
    if recorded:
        return recorded

    parts = [part for part in path.split(" > ") if part]
    categories = await ctx.pergai.list_categories()
    names = [CategoryName(c.id, c.name_en, c.name_tr, c.parent_category_id) for c in categories]
    match = match_path(parts, names)
    if match is not None:
        name = match.name_en or match.name_tr or FALLBACK_CATEGORY
    elif ctx.settings.pergai.create_categories:
        name = (await ctx.pergai.create_category(parts[-1])).name_en or parts[-1]
    else:
        name = FALLBACK_CATEGORY

    await ctx.repo.set_category_link(store.store_id, path, name)
    return name


async def push_product(ctx: Context, store: StoreRuntime, link: ProductLink) -> None:
    """Filter a discovered link, then create (or find) its PergAI product: stage ``pushed``."""
    assert link.id is not None
    reason = store.config.filters.skip_reason(item_of(link))
    if reason is not None:
        await ctx.repo.record_link_step(
            link.id, ctx.owner, stage=Stage.SKIPPED, reason=reason, action="skipped", message=reason
        )
        return

    product_id = link.pergai_product_id or await find_or_create_product(ctx, store, link)
    await ctx.repo.record_link_step(
        link.id,
        ctx.owner,
        stage=Stage.PUSHED,
        next_attempt_at=ctx.clock(),
        pergai_product_id=product_id,
        action="pushed",
        message=f"PergAI product {product_id}",
    )


async def find_lost_product(ctx: Context, link: ProductLink) -> str | None:
    """Return the id of a PergAI product an earlier try of this link created but did not record.

    Products another link records are left out, because two stores may list a
    product with the same title and image file name.
    """
    products = await ctx.pergai.list_products()
    named = [product.id for product in products if product.name == link.title]
    recorded = await ctx.repo.recorded_pergai_products(named)
    candidates = [product for product in products if product.id not in recorded]
    found = pick_product(candidates, link.title, link.source_image_url)
    return found.id if found is not None else None


async def find_or_create_product(ctx: Context, store: StoreRuntime, link: ProductLink) -> str:
    """Create the PergAI product, looking it up first when an earlier try may have made it."""
    assert link.id is not None and link.source_image_url is not None
    if link.attempts > 0:
        found = await find_lost_product(ctx, link)
        if found is not None:
            return found

    category = await category_for(ctx, store, link)
    # Counting the attempt before the create means a crash or a lost response
    # leaves attempts > 0, so the next try looks the product up first.
    await ctx.repo.note_attempt(link.id, ctx.owner)
    try:
        product = await ctx.pergai.create_product(link.title, category, link.source_image_url)
    except RemoteConnectionError as error:
        if not error.outcome_unknown:
            raise
        found = await find_lost_product(ctx, link)
        if found is None:
            raise
        return found
    except BadRequestError as error:
        raise BadRequestError(
            f"PergAI rejected product {link.title!r} with image {link.source_image_url}: "
            f"{error}. Replace the image or fix the product in the store; pergai-sync tries "
            "it again when the product changes, or run `pergai-sync retry`",
            service=error.service,
            status=error.status,
        ) from error
    return product.id


async def plan_outputs(ctx: Context, store: StoreRuntime, link: ProductLink) -> None:
    """Create one render per configured output for the current source image: stage ``rendering``.

    When every render of the source image has already finished, the link settles at once.
    """
    assert link.id is not None and link.source_fingerprint is not None
    keys = [output.key for output in store.config.outputs]
    await ctx.repo.ensure_renders(link.id, keys, link.source_fingerprint)
    await ctx.repo.record_link_step(
        link.id,
        ctx.owner,
        stage=Stage.RENDERING,
        action="rendering",
        message=f"{len(keys)} outputs requested: {', '.join(keys)}",
    )
    # Renders of this source image may all be finished already (a failed product sent back
    # by a store edit); nothing else would settle the link then.
    await settle_link(ctx, link.id)


async def run_link_step(ctx: Context, store: StoreRuntime, link: ProductLink) -> None:
    """Run the step a claimed link is due for; errors go to the caller's failure handling."""
    if link.stage is Stage.DISCOVERED:
        await push_product(ctx, store, link)
    elif link.stage is Stage.PUSHED:
        await plan_outputs(ctx, store, link)
    else:
        raise PergaiSyncError(f"product link {link.id} has no step for stage {link.stage}")
