"""Daemon start-up: work begins while the first catalogue scan is still reading."""

from __future__ import annotations

import asyncio
from pathlib import Path

from simulators.catalogue import SeedImage, SeedProduct
from storage.models import Stage
from sync.context import Context
from sync.daemon import Daemon
from sync.runtime import open_context
from tests.acceptance.harness import config_text, free_port, start_simulators, write_config

# Two WooCommerce pages of 100, each taking this long to serve.
PAGE_LATENCY = 3.0


def seeds(count: int) -> list[SeedProduct]:
    return [
        SeedProduct(
            title=f"Start-up product {n}",
            price="5.00",
            categories=[["Clothing"]],
            images=[SeedImage(f"start-{n}.png")],
        )
        for n in range(count)
    ]


async def test_work_starts_before_first_scan_ends(database_url: str, tmp_path: Path) -> None:
    async with start_simulators(seeds(150), generation_duration=0.2) as sims:
        text = config_text(sims, database_url, free_port(), platforms=("woocommerce",))
        settings = write_config(tmp_path / "pergai-sync.toml", text, sims)
        faults = sims.woocommerce_state.settings.faults
        faults.latency = PAGE_LATENCY
        faults.exempt_prefixes = ("/wp-content/",)

        async with open_context(settings) as ctx:
            store_id = ctx.stores["woo"].store_id
            daemon = Daemon(ctx)
            running = asyncio.create_task(daemon.run())
            try:
                pushed_during_scan = await watch_first_scan(ctx, store_id)
            finally:
                daemon.stop()
                await running

    assert pushed_during_scan > 0


async def watch_first_scan(ctx: Context, store_id: int) -> int:
    """Return how many products had been pushed when the first scan recorded its cursor."""
    pushed = 0
    for _ in range(300):
        cursor = await ctx.repo.get_cursor(store_id)
        if cursor is not None:
            return pushed
        links = await ctx.repo.stage_counts()
        stages = links.get("woo", {})
        pushed = sum(count for stage, count in stages.items() if stage is not Stage.DISCOVERED)
        await asyncio.sleep(0.1)
    raise AssertionError("the first scan did not finish in 30 s")
