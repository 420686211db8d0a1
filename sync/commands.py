"""Bodies of the CLI commands, apart from `run` (the daemon) and `demo`."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

from connectors.base import CatalogueItem, WriteMode
from storage.database import Database
from storage.migrate import upgrade
from storage.models import ProductLink, RenderStatus, Stage
from storage.repository import Repository
from sync.config.settings import Settings
from sync.config.stores import StoreBase
from sync.context import Context
from sync.discovery import apply_config, poll_store
from sync.engine import Engine
from sync.errors import ConfigError, PergaiSyncError, StorageError
from sync.progress import open_work_count
from sync.runtime import make_connector, open_context, platform_of
from sync.writeback import settle_link, write_render

logger = logging.getLogger(__name__)
console = Console()

FINAL_STAGES = (Stage.DONE, Stage.SKIPPED, Stage.FAILED, Stage.DELETED)


async def upgrade_command(settings: Settings) -> int:
    revision = await upgrade(settings.database.url)
    console.print(f"database {settings.database.display_url} is at revision {revision}")
    return 0


async def check_command(settings: Settings) -> int:
    """Check every store's credentials, the PergAI key, and that each scene is a template."""
    problems = 0
    async with open_context(settings) as ctx:
        for store in ctx.stores.values():
            try:
                found = await store.connector.check()
                console.print(f"[green]ok[/] store {store.name}: {escape(found.shop_name)}")
            except PergaiSyncError as error:
                problems += 1
                console.print(f"[red]failed[/] store {store.name}: {escape(str(error))}")

        try:
            templates = {template.name for template in await ctx.pergai.list_templates()}
            console.print(f"[green]ok[/] PergAI: {len(templates)} scene templates")
        except PergaiSyncError as error:
            console.print(f"[red]failed[/] PergAI: {escape(str(error))}")
            return 1

        for store in ctx.stores.values():
            for index, output in enumerate(store.config.outputs):
                if output.scene is not None and output.scene not in templates:
                    problems += 1
                    allowed = ", ".join(sorted(templates))
                    console.print(
                        f"[red]failed[/] {store.name}: outputs[{index}].scene {output.scene!r} "
                        f"is not a PergAI template; allowed: {allowed}"
                    )
    return 1 if problems else 0


def select_stores(ctx: Context, name: str | None) -> list[str]:
    if name is None:
        return list(ctx.stores)
    if name not in ctx.stores:
        raise ConfigError(f"no store named {name!r} in the config; stores: {', '.join(ctx.stores)}")
    return [name]


PRODUCT_ID_HINTS = {
    "shopify": "Shopify product ids look like gid://shopify/Product/123 or 123",
    "woocommerce": "WooCommerce product ids are numbers, as in the admin's post=123",
}


async def known_product(ctx: Context, names: list[str], product: str) -> str:
    """Return ``product`` as the stores record it; raise when none of ``names`` has it.

    A Shopify id may be given as the number the admin shows in its URLs.
    """
    for name in names:
        store = ctx.stores[name]
        platform = platform_of(store.config)
        recorded = product
        if platform == "shopify" and product.isdigit():
            recorded = f"gid://shopify/Product/{product}"
        if await ctx.repo.links_of_product(store.store_id, recorded):
            return recorded

    hints = sorted({PRODUCT_ID_HINTS[platform_of(ctx.stores[name].config)] for name in names})
    raise PergaiSyncError(
        f"no product {product!r} in the mapping database for {', '.join(names)}; "
        f"{'; '.join(hints)}. `pergai-sync status` lists the recent ones"
    )


async def recorded_links(settings: Settings, store_name: str) -> dict[str, ProductLink]:
    """Return the store's product links by product id, or nothing when the database is new."""
    database = Database(settings.database.url)
    try:
        return await links_by_product(Repository(database), store_name)
    except StorageError:
        return {}
    finally:
        await database.aclose()


async def links_by_product(repo: Repository, store_name: str) -> dict[str, ProductLink]:
    store = await repo.get_store(store_name)
    if store is None or store.id is None:
        return {}

    links = {}
    for product_id in await repo.live_product_ids(store.id):
        link = await repo.find_link(store.id, product_id)
        if link is not None:
            links[product_id] = link
    return links


def planned_action(config: StoreBase, item: CatalogueItem, link: ProductLink | None) -> str:
    """Say what a sync would do with one product, given what the database recorded."""
    reason = config.filters.skip_reason(item)
    if reason:
        return f"skip: {reason}"

    source = item.source_image
    done = link is not None and link.stage is Stage.DONE
    if (
        done
        and source is not None
        and link is not None
        and link.source_fingerprint == source.fingerprint
    ):
        return "nothing: already done for this image"

    outputs = ", ".join(output.key for output in config.outputs)
    return f"make {outputs}; write back ({config.write_back})"


async def dry_run_command(settings: Settings, store_name: str | None) -> int:
    """Read each store's catalogue and print what a sync would do, writing nothing anywhere."""
    stores = [s for s in settings.stores if store_name in (None, s.name)]
    if not stores:
        raise ConfigError(f"no store named {store_name!r} in the config")

    table = Table("store", "product", "title", "would")
    table.columns[1].overflow = "fold"
    for config in stores:
        links = await recorded_links(settings, config.name)
        connector = make_connector(config)
        try:
            async for item in connector.catalogue_changes(None, datetime.now(UTC)):
                action = planned_action(config, item, links.get(item.product_id))
                table.add_row(config.name, item.product_id, escape(item.title), escape(action))
        finally:
            await connector.aclose()
    console.print(table)
    return 0


async def sync_once(settings: Settings, store_name: str | None, max_wait: float) -> int:
    """Poll the stores once and run the engine until every product has settled."""
    await upgrade(settings.database.url)
    async with open_context(settings) as ctx:
        names = select_stores(ctx, store_name)
        await apply_config(ctx)
        for name in names:
            await poll_store(ctx, ctx.stores[name])

        engine = Engine(ctx)
        await run_with_progress(ctx, engine, names, max_wait)
        await ctx.repo.release_leases(ctx.owner)

        failures = await ctx.repo.recent_failures()
        await print_status(ctx)
        return 1 if failures else 0


async def run_with_progress(
    ctx: Context, engine: Engine, names: list[str], max_wait: float
) -> None:
    deadline = time.monotonic() + max_wait
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
    )
    stopping, wake = asyncio.Event(), asyncio.Event()
    interval = min(1.0, ctx.settings.daemon.job_check_interval)
    worker = asyncio.create_task(engine.run(stopping, wake, interval), name="engine")
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            tasks = {name: progress.add_task(name, total=None) for name in names}
            while time.monotonic() < deadline and not worker.done():
                await asyncio.sleep(0.5)
                await show_progress(ctx, progress, tasks)
                if await open_work_count(ctx.repo) == 0:
                    return
    finally:
        stopping.set()
        wake.set()
        await worker
    raise PergaiSyncError(
        f"products still in progress after {max_wait:.0f} s; run `pergai-sync status`"
    )


async def show_progress(ctx: Context, progress: Progress, tasks: dict[str, TaskID]) -> None:
    counts = await ctx.repo.stage_counts()
    for name, task in tasks.items():
        stages = counts.get(name, {})
        settled = sum(stages.get(stage, 0) for stage in FINAL_STAGES)
        progress.update(task, total=sum(stages.values()), completed=settled)


async def status_command(settings: Settings) -> int:
    async with open_context(settings) as ctx:
        await print_status(ctx)
    return 0


async def print_status(ctx: Context) -> None:
    """Print one row per store and stage that has products, the day's jobs, and failures."""
    counts = await ctx.repo.stage_counts()
    usage = await ctx.repo.usage_for_day()
    table = Table("store", "stage", "products", title="products per store and stage")
    for name in ctx.stores:
        for stage, count in sorted(counts.get(name, {}).items()):
            table.add_row(name, stage.value, str(count))
    console.print(table)

    for name, store in ctx.stores.items():
        budget = store.config.daily_budget
        if budget is None:
            continue
        used = usage.get(name, 0)
        line = f"{name}: {used} of {budget} PergAI jobs of today's budget used"
        if used >= budget:
            line += "; spent, new jobs wait until 00:00 UTC"
        console.print(line)

    skipped = await ctx.repo.skip_reasons()
    if skipped:
        reasons = Table("store", "products", "reason", title="why products were skipped")
        for store_name, reason, count in skipped:
            reasons.add_row(store_name, str(count), escape(reason))
        console.print(reasons)

    failures = await ctx.repo.recent_failures()
    if failures:
        failed = Table("store", "product", "output", "reason", title="recent failures")
        failed.columns[1].overflow = "fold"
        for failure in failures:
            output = failure.output_key or "product"
            reason = escape(failure.reason or "")
            failed.add_row(failure.store, failure.product_id, output, reason)
        console.print(failed)


async def retry_command(settings: Settings, store_name: str | None, product: str | None) -> int:
    async with open_context(settings) as ctx:
        names = select_stores(ctx, store_name)
        store_id = ctx.stores[names[0]].store_id if store_name else None
        if product is not None:
            product = await known_product(ctx, names, product)
        count = await ctx.repo.retry_failed(store_id, product)
        console.print(f"{count} failed products sent back to work; `pergai-sync run` picks them up")
    return 0


async def approve_command(
    settings: Settings, store_name: str | None, product: str | None, mode: str
) -> int:
    """Write every render held for review (of one store or product) to its listing."""
    written = 0
    async with open_context(settings) as ctx:
        if product is not None:
            product = await known_product(ctx, select_stores(ctx, store_name), product)
        for name in select_stores(ctx, store_name):
            store = ctx.stores[name]
            claimed = await ctx.repo.claim_renders(
                ctx.owner,
                [RenderStatus.REVIEW],
                limit=10_000,
                lease_seconds=ctx.lease_seconds,
                store_id=store.store_id,
            )
            for item in claimed:
                if product is not None and item.link.product_id != product:
                    assert item.render.id is not None
                    await ctx.repo.release_render(item.render.id, ctx.owner)
                    continue
                await write_render(ctx, store, item, WriteMode(mode))
                assert item.link.id is not None
                await settle_link(ctx, item.link.id)
                written += 1
    console.print(f"{written} approved images written")
    return 0


async def revert_command(settings: Settings, store_name: str, product: str | None) -> int:
    """Remove our images and restore replaced originals, for a store or one product."""
    async with open_context(settings) as ctx:
        store = ctx.stores[select_stores(ctx, store_name)[0]]
        if product is not None:
            product = await known_product(ctx, [store.name], product)
        targets = await ctx.repo.revert_targets(store.store_id, product)
        for target in targets:
            ours = tuple(r.store_image_id for r in target.renders if r.store_image_id)
            detached = tuple(i for r in target.renders for i in r.detached_ids)
            await store.connector.revert(target.link.product_id, ours, detached)
            for render in target.renders:
                assert render.id is not None
                await ctx.repo.mark_render_reverted(render.id, "removed by `pergai-sync revert`")
        console.print(f"reverted {len(targets)} products of {store.name}")
    return 0


async def register_webhooks_command(settings: Settings) -> int:
    async with open_context(settings) as ctx:
        for name, store in ctx.stores.items():
            url = settings.server.webhook_url(platform_of(store.config), name)
            if url is None:
                raise ConfigError("set [server] public_url so stores know where to send webhooks")
            topics = await store.connector.register_webhooks(url)
            console.print(f"{name}: {', '.join(topics)} -> {url}")
    return 0
