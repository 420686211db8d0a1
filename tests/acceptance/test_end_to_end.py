"""The whole job against the simulators, on SQLite and PostgreSQL: products in, images out."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from connectors.base import CatalogueItem
from simulators.catalogue import SeedImage, SeedProduct
from storage.models import ProductLink, RenderStatus, Stage
from sync.commands import approve_command, revert_command
from sync.config.settings import Settings
from sync.context import Context
from sync.daemon import Daemon
from sync.demo_catalogue import demo_catalogue
from sync.errors import PergaiSyncError
from sync.progress import open_work_count
from sync.runtime import open_context
from tests.acceptance.harness import (
    Simulators,
    config_text,
    free_port,
    listings,
    register_webhooks,
    run_until_settled,
    stage_counts,
    write_config,
)

OUTPUTS = 2


def ours(item: CatalogueItem) -> list[str]:
    """Generation ids of the images pergai-sync wrote on a listing, in listing order."""
    return [image.generation_id for image in item.images if image.generation_id]


async def test_all_products_done_once(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    settings = write_config(
        tmp_path / "pergai-sync.toml",
        config_text(simulators, database_url, free_port()),
        simulators,
    )

    await run_until_settled(settings)

    counts = await stage_counts(settings)
    products = len(demo_catalogue())
    assert counts == {"shop": {"done": products}, "woo": {"done": products}}
    for store, items in (await listings(settings)).items():
        assert len(items) == products, store
        for item in items:
            written = ours(item)
            assert len(written) == OUTPUTS, (store, item.title, written)
            assert len(set(written)) == OUTPUTS
            # write_back = "add": the original stays first, ours come after it.
            assert item.images[0].generation_id is None, (store, item.title)


async def test_featured_mode_puts_ours_first(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    text = config_text(simulators, database_url, free_port(), write_back="featured")
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)

    await run_until_settled(settings)

    for store, items in (await listings(settings)).items():
        for item in items:
            assert item.images[0].generation_id is not None, (store, item.title)
            assert len(ours(item)) == OUTPUTS


async def test_own_writes_start_nothing(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    settings = write_config(
        tmp_path / "pergai-sync.toml",
        config_text(simulators, database_url, free_port()),
        simulators,
    )
    await run_until_settled(settings)
    # Let the webhooks our own writes caused arrive and be applied.
    await asyncio.sleep(1.0)
    await run_until_settled(settings)

    generations = len(simulators.pergai_state.generations)
    assert generations == 2 * len(demo_catalogue()) * OUTPUTS
    counts = await stage_counts(settings)
    assert all(set(stages) == {"done"} for stages in counts.values())


async def test_webhook_new_product_without_poll(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    # Polls every hour: only the webhook can bring the new product in.
    text = config_text(simulators, database_url, free_port(), platforms=("shopify",))
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)
    await run_until_settled(settings)

    async with open_context(settings) as ctx:
        await register_webhooks(ctx)
        daemon = Daemon(ctx)
        running = asyncio.create_task(daemon.run())
        await asyncio.sleep(0.5)
        seed = SeedProduct(title="Yeni Ürün 🧢", images=[SeedImage("cap.png")], status="active")
        simulators.shopify_state.add_product(seed)

        link = None
        for _ in range(100):
            await asyncio.sleep(0.2)
            link = await find_by_title(ctx, "shop", seed.title)
            if link is not None and link.stage is Stage.DONE:
                break
        daemon.stop()
        await running

    assert link is not None, "the webhook's product was never recorded"
    assert link.stage is Stage.DONE


async def find_by_title(ctx: Context, store: str, title: str) -> ProductLink | None:
    for product_id in await ctx.repo.live_product_ids(ctx.stores[store].store_id):
        for link in await ctx.repo.links_of_product(ctx.stores[store].store_id, product_id):
            if link.title == title:
                return link
    return None


async def test_replace_then_revert_restores(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    text = config_text(simulators, database_url, free_port(), write_back="replace")
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)
    before = {
        store: {i.product_id: [img.id for img in i.images] for i in items}
        for store, items in (await listings(settings)).items()
    }

    await run_until_settled(settings)
    # Detaching the originals leaves only our images: that is no new source image.
    products = len(demo_catalogue())
    assert await stage_counts(settings) == {"shop": {"done": products}, "woo": {"done": products}}
    replaced = await listings(settings)
    for store, items in replaced.items():
        for item in items:
            assert all(image.generation_id for image in item.images), (store, item.title)

    with pytest.raises(PergaiSyncError, match="no product '999999' .* WooCommerce product ids"):
        await revert_command(settings, "woo", "999999")
    with pytest.raises(PergaiSyncError, match="no product '999999' .* Shopify product ids"):
        await approve_command(settings, "shop", "999999", "add")
    # A Shopify product may be named by the number in its admin URL.
    await revert_command(settings, "shop", min(before["shop"]).rsplit("/", 1)[1])
    for store in ("shop", "woo"):
        await revert_command(settings, store, None)

    after = {
        store: {i.product_id: [img.id for img in i.images] for i in items}
        for store, items in (await listings(settings)).items()
    }
    for store in before:
        for product_id, images in before[store].items():
            assert sorted(after[store][product_id]) == sorted(images), (store, product_id)


async def test_review_waits_for_approve(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    text = config_text(simulators, database_url, free_port(), write_back="review")
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)

    await run_until_settled(settings)

    for items in (await listings(settings)).values():
        assert all(not ours(item) for item in items)
    counts = await stage_counts(settings)
    assert all(set(stages) == {"writing"} for stages in counts.values())

    await approve_command(settings, None, None, "add")

    for items in (await listings(settings)).values():
        assert all(len(ours(item)) == OUTPUTS for item in items)
    counts = await stage_counts(settings)
    assert all(set(stages) == {"done"} for stages in counts.values())


async def test_budget_spent_waits(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    text = config_text(
        simulators, database_url, free_port(), daily_budget=3, platforms=("woocommerce",)
    )
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)
    await run_until_settled_or_idle(settings)

    assert len(simulators.pergai_state.generations) == 3
    async with open_context(settings) as ctx:
        assert await open_work_count(ctx.repo) > 0
        renders = []
        for product_id in await ctx.repo.live_product_ids(ctx.stores["woo"].store_id):
            for link in await ctx.repo.links_of_product(ctx.stores["woo"].store_id, product_id):
                assert link.id is not None
                renders += await ctx.repo.renders_of_link(link.id)
    waiting = [r for r in renders if r.status is RenderStatus.REQUESTED]
    assert waiting
    assert all(r.reason and "daily budget of 3" in r.reason for r in waiting)


async def run_until_settled_or_idle(settings: Settings, seconds: float = 6.0) -> None:
    """Run the daemon for ``seconds``; with a spent budget it never settles, and need not."""
    with contextlib.suppress(TimeoutError):
        await run_until_settled(settings, max_wait=seconds)
