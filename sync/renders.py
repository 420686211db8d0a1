"""Render steps: start a PergAI job for an output, and watch running jobs in batches."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from connectors.pergai import Generation, GenerationStatus, ToolResult
from storage.claims import ClaimedRender
from storage.errors import LeaseLostError
from storage.models import ProductLink, RenderStatus, Stage
from sync.config.outputs import OutputConfig
from sync.context import Context, StoreRuntime
from sync.errors import ConfigError, NotFoundError, RemoteConnectionError
from sync.failures import MAX_ATTEMPTS

logger = logging.getLogger(__name__)

# With this many running jobs to check, one list call is cheaper than a get per job.
LIST_THRESHOLD = 4


def output_for(store: StoreRuntime, key: str) -> OutputConfig:
    for output in store.config.outputs:
        if output.key == key:
            return output
    raise ConfigError(
        f"store {store.name!r} no longer configures output {key!r}; "
        "add it back to the config or leave this render failed"
    )


def product_fields(link: ProductLink) -> dict[str, object]:
    """Return the product fields that prompt and alt-text templates may use."""
    parts = [part for part in link.category_path.split(" > ") if part]
    return {
        "title": link.title,
        "product_type": link.product_type or "",
        "category": parts[-1] if parts else "",
        "tags": ", ".join(link.tags),
        "vendor": "",
    }


def budget_reason(budget: int, resume: datetime) -> str:
    return f"daily budget of {budget} PergAI jobs spent; resumes at {resume:%Y-%m-%d %H:%M} UTC"


def next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)


async def start_render(ctx: Context, store: StoreRuntime, claimed: ClaimedRender) -> None:
    """Reserve budget and start the output's PergAI job: status ``running`` (or ``completed``)."""
    render, link = claimed.render, claimed.link
    assert render.id is not None
    now = ctx.clock()
    if link.pergai_product_id is None:
        # The link is being pushed again (see push_again); start once it has its product.
        retry_at = now + timedelta(seconds=ctx.settings.daemon.drain_interval)
        await ctx.repo.record_render_step(
            render.id, ctx.owner, status=RenderStatus.REQUESTED, next_attempt_at=retry_at
        )
        return

    output = output_for(store, render.output_key)
    budget = store.config.daily_budget
    if budget is not None and not await ctx.repo.reserve_budget(
        store.store_id, budget, day=now.date()
    ):
        resume = next_utc_midnight(now)
        await ctx.repo.record_render_step(
            render.id,
            ctx.owner,
            status=RenderStatus.REQUESTED,
            next_attempt_at=resume,
            reason=budget_reason(budget, resume),
            action="budget_wait",
            message="waiting for the daily budget",
        )
        return

    job: Generation | ToolResult | None = None
    if render.attempts > 0:
        job = await find_lost_job(ctx, claimed, output)
    if job is None:
        await ctx.repo.note_attempt(render.id, ctx.owner, render=True)
        try:
            job = await start_job(ctx, link, output)
        except NotFoundError:
            if budget is not None:
                await ctx.repo.release_budget(store.store_id, day=now.date())
            await push_again(ctx, claimed)
            return
    await record_started(ctx, claimed, job)


async def push_again(ctx: Context, claimed: ClaimedRender) -> None:
    """Send a link back to be pushed when PergAI no longer has its product (deleted there).

    The render waits a little and then starts with the new product's id.
    """
    render, link = claimed.render, claimed.link
    assert render.id is not None and link.id is not None
    message = f"PergAI no longer has product {link.pergai_product_id}; pushing it again"
    if await ctx.repo.lease_link(link.id, ctx.owner, ctx.lease_seconds):
        await ctx.repo.record_link_step(
            link.id,
            ctx.owner,
            stage=Stage.DISCOVERED,
            pergai_product_id=None,
            next_attempt_at=ctx.clock(),
            action="pergai_product_missing",
            message=message,
        )
    await ctx.repo.record_render_step(
        render.id,
        ctx.owner,
        status=RenderStatus.REQUESTED,
        next_attempt_at=ctx.clock() + timedelta(seconds=ctx.settings.daemon.drain_interval),
        last_error=message,
    )
    logger.warning(message, extra={"action": "pergai_product_missing", "product": link.product_id})


async def find_lost_job(
    ctx: Context, claimed: ClaimedRender, output: OutputConfig
) -> Generation | None:
    """Find a job an earlier try started but did not record, so it is not paid twice.

    Tool runs are found too when PergAI lists them among the generations with
    their ``tool`` name, as the simulator does.
    """
    if claimed.link.pergai_product_id is None:
        return None

    product_id = claimed.link.pergai_product_id
    for generation in await ctx.pergai.find_generations(product_id, output.scene):
        if generation.status is GenerationStatus.FAILED or not job_matches(generation, output):
            continue
        if not await ctx.repo.generation_recorded(generation.id):
            return generation
    return None


def job_matches(generation: Generation, output: OutputConfig) -> bool:
    """True when a listed job is of the output's kind: a scene shot, or its tool and options."""
    if output.scene is not None:
        return generation.tool is None
    if generation.tool != output.tool:
        return False

    # NOTE: a listing without the tool's options matches any output of the same tool, so two
    # outputs of one tool with different options may swap lost jobs between them.
    listed = generation.model_extra or {}
    wanted = {"ratio": output.ratio, "scale": output.scale}
    return all(listed.get(name) in (None, value) for name, value in wanted.items() if value)


async def start_job(
    ctx: Context, link: ProductLink, output: OutputConfig
) -> Generation | ToolResult:
    assert link.pergai_product_id is not None
    product_id = link.pergai_product_id
    try:
        if output.scene is not None:
            return await ctx.pergai.create_generation(
                product_id,
                output.scene,
                custom_prompt=output.render_prompt(product_fields(link)),
                ai_provider=output.ai_provider,
                aspect_ratio=output.aspect_ratio,
            )
        if output.tool == "remove-bg":
            return await ctx.pergai.remove_background(product_id)
        if output.tool == "upscale":
            return await ctx.pergai.upscale(product_id, scale=output.scale or "1x")
        return await ctx.pergai.expand(
            product_id,
            ratio=output.ratio or "1:1",
            prompt=output.render_prompt(product_fields(link)),
        )
    except RemoteConnectionError as error:
        # The job may exist: mark the outcome unknown so the next try looks it up.
        error.outcome_unknown = True
        raise


async def record_started(
    ctx: Context, claimed: ClaimedRender, job: Generation | ToolResult
) -> None:
    render = claimed.render
    assert render.id is not None
    finished_url = (
        job.finished_url if isinstance(job, ToolResult) and not job.needs_polling else None
    )
    if finished_url is not None:
        await ctx.repo.record_render_step(
            render.id,
            ctx.owner,
            status=RenderStatus.COMPLETED,
            result_url=finished_url,
            next_attempt_at=ctx.clock(),
            action="render_completed",
            message=f"{render.output_key} finished at once",
        )
        return

    assert job.id is not None
    check_at = ctx.clock() + timedelta(seconds=ctx.settings.daemon.job_check_interval)
    await ctx.repo.record_render_step(
        render.id,
        ctx.owner,
        status=RenderStatus.RUNNING,
        generation_id=job.id,
        next_attempt_at=check_at,
        action="render_started",
        message=f"{render.output_key}: PergAI job {job.id}",
    )
    logger.info(
        "started %s for product %s",
        render.output_key,
        claimed.link.product_id,
        extra={
            "action": "render_started",
            "product": claimed.link.product_id,
            "generation": job.id,
        },
    )


async def fetch_statuses(ctx: Context, generation_ids: list[str]) -> dict[str, Generation]:
    """Read the generations' current state with as few PergAI calls as possible."""
    if len(generation_ids) >= LIST_THRESHOLD:
        listed = {g.id: g for g in await ctx.pergai.list_generations()}
        missing = [gid for gid in generation_ids if gid not in listed]
    else:
        listed, missing = {}, generation_ids

    for generation_id in missing:
        listed[generation_id] = await ctx.pergai.get_generation(generation_id)
    return listed


async def check_running(ctx: Context, claimed: list[ClaimedRender]) -> list[ClaimedRender]:
    """Record finished jobs among ``claimed`` running renders; return those now finished."""
    ids = [c.render.generation_id for c in claimed if c.render.generation_id]
    statuses = await fetch_statuses(ctx, ids)
    finished = []

    for item in claimed:
        generation = statuses.get(item.render.generation_id or "")
        if generation is None:
            continue
        try:
            if await record_status(ctx, item, generation):
                finished.append(item)
        except LeaseLostError:
            # A new source image superseded the render, or another daemon took it over.
            logger.info(
                "render %s changed hands during the job check",
                item.render.id,
                extra={"action": "lease_lost", "product": item.link.product_id},
            )
    return finished


async def record_status(ctx: Context, claimed: ClaimedRender, generation: Generation) -> bool:
    """Record one job's state; return True when it finished (completed or failed)."""
    render = claimed.render
    assert render.id is not None
    now = ctx.clock()

    if generation.status is GenerationStatus.COMPLETED and generation.result_image_path:
        await ctx.repo.record_render_step(
            render.id,
            ctx.owner,
            status=RenderStatus.COMPLETED,
            result_url=generation.result_image_path,
            next_attempt_at=now,
            action="render_completed",
            message=f"{render.output_key} completed",
        )
        return True

    if generation.status is GenerationStatus.FAILED:
        await record_job_failed(ctx, claimed, generation)
        return True

    check_at = now + timedelta(seconds=ctx.settings.daemon.job_check_interval)
    await ctx.repo.record_render_step(
        render.id, ctx.owner, status=RenderStatus.RUNNING, next_attempt_at=check_at
    )
    return False


async def record_job_failed(ctx: Context, claimed: ClaimedRender, generation: Generation) -> None:
    """Start a failed PergAI job again as a new job, until the attempts run out."""
    render = claimed.render
    assert render.id is not None
    cause = generation.error_message or "PergAI reported the job as failed"

    if render.attempts < MAX_ATTEMPTS:
        await ctx.repo.record_render_step(
            render.id,
            ctx.owner,
            status=RenderStatus.REQUESTED,
            generation_id=None,
            next_attempt_at=ctx.clock(),
            last_error=cause,
            action="render_retry",
            message=f"{render.output_key}: job {generation.id} failed ({cause}); starting again",
        )
        return

    reason = (
        f"PergAI failed {render.output_key} {render.attempts} times (last: {cause}); "
        "check the product image, then run `pergai-sync retry`"
    )
    await ctx.repo.record_render_step(
        render.id,
        ctx.owner,
        status=RenderStatus.FAILED,
        reason=reason,
        last_error=cause,
        action="render_failed",
        message=reason,
    )
