"""A product's life after its first cycle: a new source image, deletion, category mapping."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.models import Stage
from sync.daemon import Daemon
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


async def wait_for(condition, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.2)):
        if await condition():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_new_source_image_starts_one_cycle(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    text = config_text(simulators, database_url, free_port(), platforms=("woocommerce",))
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)
    await run_until_settled(settings)
    first_cycle = len(simulators.pergai_state.generations)

    async with open_context(settings) as ctx:
        await register_webhooks(ctx)
        store = ctx.stores["woo"]
        product_id = (await ctx.repo.live_product_ids(store.store_id))[0]
        item = await store.connector.get_product(product_id)
        assert item is not None and item.source_image is not None
        # The merchant swaps the product photo: the listing's images become one new image.
        new_src = item.source_image.url.rsplit(".", 1)[0] + ".png"
        transport = store.connector.transport  # type: ignore[attr-defined]
        await transport.request(
            "put", f"products/{product_id}", data={"images": [{"src": new_src}]}
        )

        daemon = Daemon(ctx)
        running = asyncio.create_task(daemon.run())

        async def new_cycle_done() -> bool:
            link = await ctx.repo.find_link(store.store_id, product_id)
            return (
                link is not None
                and link.stage is Stage.DONE
                and len(simulators.pergai_state.generations) == first_cycle + OUTPUTS
            )

        finished = await wait_for(new_cycle_done)
        await asyncio.sleep(1.0)
        daemon.stop()
        await running

    assert finished, "the new source image did not start a cycle that finished"
    # Exactly one new cycle: our own writes' webhooks started nothing more.
    assert len(simulators.pergai_state.generations) == first_cycle + OUTPUTS


async def test_deleted_product_deletes_pergai_product(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    text = config_text(simulators, database_url, free_port(), platforms=("woocommerce",))
    text = text.replace("[database]", "delete_products_on_store_delete = true\n\n[database]")
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)
    await run_until_settled(settings)
    products_before = len(simulators.pergai_state.products)

    async with open_context(settings) as ctx:
        await register_webhooks(ctx)
        store = ctx.stores["woo"]
        product_id = (await ctx.repo.live_product_ids(store.store_id))[0]
        link = await ctx.repo.find_link(store.store_id, product_id)
        assert link is not None and link.pergai_product_id is not None
        transport = store.connector.transport  # type: ignore[attr-defined]
        await transport.request("delete", f"products/{product_id}")

        daemon = Daemon(ctx)
        running = asyncio.create_task(daemon.run())

        async def deleted() -> bool:
            current = await ctx.repo.find_link(store.store_id, product_id)
            return current is not None and current.stage is Stage.DELETED

        finished = await wait_for(deleted)
        daemon.stop()
        await running

    assert finished, "the trashed product's link never reached `deleted`"
    assert link.pergai_product_id not in simulators.pergai_state.products
    assert len(simulators.pergai_state.products) == products_before - 1


async def test_store_categories_map_to_pergai(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    # WooCommerce products carry category paths such as "Accessories > Hats".
    text = config_text(simulators, database_url, free_port(), platforms=("woocommerce",))
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)

    await run_until_settled(settings)

    by_name = {record.name: record.category for record in simulators.pergai_state.products.values()}
    # "Clothing > Hoodies" matches PergAI's Hoodies / Kapüşonlu Sweatshirt by its English name.
    assert by_name["Kapüşonlu Sweatshirt"] == "Hoodies"
    assert by_name["Silver Ring ✨"] == "Jewellery"
    # No PergAI category is named "Hats"; its parent part "Accessories" matches.
    assert by_name["Wool Beanie"] == "Accessories"


async def test_variant_images_rendered_once(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    text = config_text(simulators, database_url, free_port(), images="variants")
    settings = write_config(tmp_path / "pergai-sync.toml", text, simulators)

    await run_until_settled(settings)
    # A second pass reads our own variant images back: it must start nothing.
    await run_until_settled(settings)

    async with open_context(settings) as ctx:
        for name, store in ctx.stores.items():
            links = [
                link
                for product_id in await ctx.repo.live_product_ids(store.store_id)
                for link in await ctx.repo.links_of_product(store.store_id, product_id)
            ]
            variants = [link for link in links if link.variant_id]
            # The demo's hoodie has a blue and a red variant, each with its own photo.
            assert len(variants) == 2, name
            assert {link.stage for link in links} == {Stage.DONE}, name
    assert len(simulators.pergai_state.generations) == 2 * (8 + 2) * OUTPUTS


async def test_config_change_reaches_handled_products(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "pergai-sync.toml"
    base = config_text(simulators, database_url, free_port(), platforms=("woocommerce",))
    gift_only = base + '\n[stores.filters]\ntags_include = ["gift"]\n'
    settings = write_config(config, gift_only, simulators)
    await run_until_settled(settings)
    first = await stage_counts(settings)
    async with open_context(settings) as ctx:
        reasons = await ctx.repo.skip_reasons()

    wider = base + '\n[[stores.outputs]]\nscene = "nature"\n'
    settings = write_config(config, wider, simulators)
    await run_until_settled(settings)

    assert first == {"woo": {"done": 2, "skipped": 6}}
    assert sum(count for _, _, count in reasons) == 6
    assert all(store == "woo" and "gift" in reason for store, reason, _ in reasons), reasons
    assert await stage_counts(settings) == {"woo": {"done": 8}}
    for item in (await listings(settings))["woo"]:
        written = [image for image in item.images if image.generation_id]
        # The two gift products got the new output only; the others got all three.
        assert len(written) == 3, item.title


async def test_product_deleted_in_pergai_pushed_again(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "pergai-sync.toml"
    base = config_text(simulators, database_url, free_port(), platforms=("woocommerce",))
    settings = write_config(config, base, simulators)
    await run_until_settled(settings)
    # The merchant deletes every product in PergAI's own app, then adds an output.
    deleted = set(simulators.pergai_state.products)
    simulators.pergai_state.products.clear()

    wider = base + '\n[[stores.outputs]]\nscene = "nature"\n'
    settings = write_config(config, wider, simulators)
    await run_until_settled(settings)

    assert await stage_counts(settings) == {"woo": {"done": 8}}
    assert len(simulators.pergai_state.products) == 8
    assert not deleted & set(simulators.pergai_state.products)
    for item in (await listings(settings))["woo"]:
        assert len([image for image in item.images if image.generation_id]) == 3, item.title
