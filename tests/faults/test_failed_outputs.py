"""A product whose output failed stays settled when the store changes it again.

Shopify fails the media of one write twice (from the URL and from the
uploaded bytes), so that output fails for good and the product ends
``failed``. A later edit in the store (a new title) sends the product back for
another look; it must settle again instead of waiting in ``rendering`` for
renders that are already finished, which kept `pergai-sync run` busy forever.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from simulators.catalogue import SeedImage, SeedProduct
from storage.models import RenderStatus, Stage
from sync.runtime import open_context
from tests.acceptance.harness import (
    config_text,
    free_port,
    run_until_settled,
    start_simulators,
    write_config,
)


async def test_edit_after_failed_output_settles(database_url: str, tmp_path: Path) -> None:
    seed = SeedProduct(title="Çaydanlık 🫖", images=[SeedImage("kettle.png")], status="active")
    async with start_simulators([seed]) as sims:
        text = config_text(sims, database_url, free_port(), platforms=("shopify",))
        settings = write_config(tmp_path / "pergai-sync.toml", text, sims)
        sims.shopify.media_failures = 2

        await run_until_settled(settings)
        product = next(iter(sims.shopify_state.catalogue.products.values()))
        sims.shopify_state.update_product(product, title="Çaydanlık 🫖 (yeni)")
        await asyncio.sleep(0.5)
        await run_until_settled(settings, max_wait=30)

        async with open_context(settings) as ctx:
            store = ctx.stores["shop"]
            link = await ctx.repo.find_link(store.store_id, product.gid)
            assert link is not None and link.id is not None
            renders = await ctx.repo.renders_of_link(link.id, link.source_fingerprint)

    assert link.title == "Çaydanlık 🫖 (yeni)"
    assert link.stage is Stage.FAILED, link.stage
    statuses = sorted(render.status.value for render in renders)
    assert statuses == [RenderStatus.FAILED.value, RenderStatus.WRITTEN.value], statuses
    assert link.reason and "IMAGE_DOWNLOAD_FAILURE" in link.reason
