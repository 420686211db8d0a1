"""Webhooks in the wild, for Shopify and WooCommerce: each real change processed once.

The stores' real signed deliveries go to a capturing server, and the test
replays them to the daemon three times each, shuffled, with 20% dropped for good and
some copies carrying a forged signature. Some deliveries come late: the body
of a first image change is held back and replayed after a second change was
processed, and must not bring the old image back. Polling (a short interval)
must catch the dropped changes. At the end every image change has started
exactly one new cycle (PergAI jobs for it == outputs, from a PergAI product
made from the new image), a title change none, our own writes none, and every
forged delivery was refused with 401 and counted as ``bad_signature``.

CI form: 4 products per store. Long form, with the figures printed::

    PERGAI_SYNC_SLOW=1 pytest tests/faults/test_webhooks_wild.py -s
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from simulators.catalogue import SeedImage, SeedProduct
from simulators.pergai.state import GenerationRecord
from storage.migrate import upgrade
from storage.models import Event, ProductLink, RenderStatus, Stage
from sync.context import Context
from sync.daemon import Daemon
from sync.metrics import Metrics
from sync.progress import open_work_count
from sync.runtime import open_context, platform_of
from tests.acceptance.harness import (
    Simulators,
    config_text,
    free_port,
    start_simulators,
    write_config,
)
from tests.faults.hostile import metric_samples, skip_unless_slow
from tests.faults.relay import Capture, Captured, Chaos, Replayed, capturing, rename, replace_image
from tests.faults.relay import replay as send_replay

OUTPUTS = 2
POLL_INTERVAL = 3.0
# Time for one catalogue scan to record what it read.
CATCH_SLACK = 5.0


@dataclass
class Scenario:
    """The products of one store and what the test does to them."""

    store: str
    platform: str
    product_ids: list[str]

    @property
    def image_changes(self) -> list[str]:
        return self.product_ids[0::3]

    @property
    def late_changes(self) -> list[str]:
        return self.product_ids[1::3]

    @property
    def renames(self) -> list[str]:
        return self.product_ids[2::3]


def seeds(count: int) -> list[SeedProduct]:
    return [
        SeedProduct(
            title=f"Vahşi ürün {n} 🌪️",
            status="publish",
            product_type="Mugs",
            images=[SeedImage(f"wild-{n}.png", f"ürün {n}")],
        )
        for n in range(count)
    ]


async def test_webhooks_wild_ci(database_url: str, tmp_path: Path) -> None:
    await wild_run(4, database_url, tmp_path, Chaos())


@pytest.mark.slow
@pytest.mark.timeout(900)
@skip_unless_slow
async def test_webhooks_wild_long(database_url: str, tmp_path: Path) -> None:
    await wild_run(30, database_url, tmp_path, Chaos(seed=29))


async def wild_run(count: int, database_url: str, tmp_path: Path, chaos: Chaos) -> None:
    rng = random.Random(chaos.seed)
    async with start_simulators(seeds(count), generation_duration=0.3) as sims:
        text = config_text(sims, database_url, free_port(), poll_interval=f"{POLL_INTERVAL:g}s")
        settings = write_config(tmp_path / "pergai-sync.toml", text, sims)
        await upgrade(settings.database.url)
        metrics = Metrics()
        async with (
            capturing() as (capture, capture_url),
            open_context(settings, metrics=metrics) as ctx,
        ):
            await register_capture(ctx, capture_url)
            daemon = Daemon(ctx)
            running = asyncio.create_task(daemon.run())
            try:
                await wild_phases(ctx, sims, capture, chaos, rng, metrics)
            finally:
                daemon.stop()
                await running


async def register_capture(ctx: Context, capture_url: str) -> None:
    for name, store in ctx.stores.items():
        await store.connector.register_webhooks(
            f"{capture_url}/webhooks/{platform_of(store.config)}/{name}"
        )


async def wild_phases(
    ctx: Context,
    sims: Simulators,
    capture: Capture,
    chaos: Chaos,
    rng: random.Random,
    metrics: Metrics,
) -> None:
    target = f"http://127.0.0.1:{ctx.settings.server.port}"
    replayed = Replayed()

    # The first sync; its own writes fire webhooks, replayed badly, which must start nothing.
    await first_sync(ctx, len(sims.shopify_state.catalogue.products))
    scenarios = [await scenario(ctx, name) for name in ctx.stores]
    first_jobs = len(sims.pergai_state.generations)
    assert first_jobs == sum(len(s.product_ids) for s in scenarios) * OUTPUTS
    seen = len(capture.deliveries)
    replayed.add(await send_replay(capture.deliveries[:seen], target, chaos, rng))
    await settle(ctx)
    assert len(sims.pergai_state.generations) == first_jobs, "own writes started jobs"

    # Merchant edits; the first change of each late product is held back.
    started = time.time()
    links_before = {s.store: await links_by_id(ctx, s) for s in scenarios}
    edited_at = datetime.now(UTC)
    for s in scenarios:
        for product_id in s.image_changes:
            replace_image(sims, s.platform, product_id, f"new-{s.store}-{product_id[-4:]}.png")
        for product_id in s.late_changes:
            replace_image(sims, s.platform, product_id, f"first-{s.store}-{product_id[-4:]}.png")
        for product_id in s.renames:
            rename(sims, s.platform, product_id, f"Yeni ad {product_id[-4:]} ✅")
    held = await captured_since(capture, seen)
    seen += len(held)
    late_ids = {pid for s in scenarios for pid in s.late_changes}
    late = [d for d in held if delivery_product(d) in late_ids]
    on_time = [d for d in held if delivery_product(d) not in late_ids]

    # Store timestamps are whole seconds; the second change must be newer.
    await asyncio.sleep(1.1)
    for s in scenarios:
        for product_id in s.late_changes:
            replace_image(sims, s.platform, product_id, f"second-{s.store}-{product_id[-4:]}.png")
    second = await captured_since(capture, seen)
    seen += len(second)

    replayed.add(await send_replay(on_time + second, target, chaos, rng))
    await settle_changes(ctx, sims, scenarios)
    caught_after = await catch_latency(ctx, scenarios, links_before, edited_at)
    own = capture.deliveries[seen:]
    seen += len(own)
    replayed.add(await send_replay(own, target, chaos, rng))
    await settle(ctx)

    # The late bodies show the first image; they are older than what is recorded.
    jobs_before_late = len(sims.pergai_state.generations)
    late_sent = await send_replay(late, target, Chaos(copies=chaos.copies, drop_rate=0.0), rng)
    replayed.add(late_sent)
    await asyncio.sleep(1.0)
    await settle(ctx)
    assert len(sims.pergai_state.generations) == jobs_before_late, "a late body started jobs"

    report(scenarios, replayed, late_sent, caught_after, metrics, sims, first_jobs)
    for s in scenarios:
        await check_scenario(ctx, sims, s, links_before[s.store], started)
    check_signatures(replayed, metrics)


async def scenario(ctx: Context, name: str) -> Scenario:
    store = ctx.stores[name]
    product_ids = await ctx.repo.live_product_ids(store.store_id)
    return Scenario(name, platform_of(store.config), product_ids)


async def links_by_id(ctx: Context, s: Scenario) -> dict[str, ProductLink]:
    store_id = ctx.stores[s.store].store_id
    links = {}
    for product_id in s.product_ids:
        link = await ctx.repo.find_link(store_id, product_id)
        assert link is not None
        links[product_id] = link
    return links


async def captured_since(capture: Capture, seen: int) -> list[Captured]:
    """Wait for the store's deliveries to arrive at the capture, then return the new ones."""
    await asyncio.sleep(0.5)
    await capture.wait_for(seen + 1)
    return capture.deliveries[seen:]


def delivery_product(delivery: Captured) -> str:
    """Return the store product id a product delivery is about."""
    import json

    payload = json.loads(delivery.body)
    if "admin_graphql_api_id" in payload:
        return str(payload["admin_graphql_api_id"])
    return str(payload.get("id"))


async def first_sync(ctx: Context, count: int, max_wait: float = 60.0) -> None:
    """Wait until the first poll recorded ``count`` products per store and all are done."""
    for _ in range(int(max_wait / 0.2)):
        counts = await ctx.repo.stage_counts()
        if all(stages.get(Stage.DONE) == count for stages in counts.values()) and counts:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the first sync did not finish in {max_wait} s: {counts}")


async def settle(ctx: Context, max_wait: float = 60.0) -> None:
    """Wait until no product link or webhook delivery is open."""
    await asyncio.sleep(0.3)
    for _ in range(int(max_wait / 0.2)):
        if await open_work_count(ctx.repo) == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"work still open after {max_wait} s")


async def settle_changes(ctx: Context, sims: Simulators, scenarios: Iterable[Scenario]) -> None:
    """Wait until every edit shows in the database, then until its work is done."""
    deadline = time.monotonic() + 60.0
    while not await changes_recorded(ctx, sims, scenarios):
        assert time.monotonic() < deadline, "edits not recorded within 60 s"
        await asyncio.sleep(0.2)
    await settle(ctx)


async def catch_latency(
    ctx: Context,
    scenarios: Iterable[Scenario],
    links_before: dict[str, dict[str, ProductLink]],
    edited_at: datetime,
) -> float:
    """Return the longest time from an image edit in the store to its record in the database.

    A product whose deliveries were all dropped is recorded by the next poll,
    so this must stay within one poll interval plus the scan (``CATCH_SLACK``).
    """
    latencies = []
    async with ctx.repo.db.read() as session:
        for s in scenarios:
            for product_id in s.image_changes:
                link_id = links_before[s.store][product_id].id
                recorded = await session.scalar(
                    select(func.min(col(Event.at))).where(
                        col(Event.link_id) == link_id,
                        col(Event.action) == "rediscovered",
                        col(Event.at) >= edited_at,
                    )
                )
                assert recorded is not None, (s.store, product_id, "new image never recorded")
                latencies.append((recorded - edited_at).total_seconds())
    latest = max(latencies)
    assert latest <= POLL_INTERVAL + CATCH_SLACK, f"an edit took {latest:.1f} s to be recorded"
    return latest


async def changes_recorded(ctx: Context, sims: Simulators, scenarios: Iterable[Scenario]) -> bool:
    for s in scenarios:
        store = ctx.stores[s.store]
        for product_id in s.product_ids:
            item = await store.connector.get_product(product_id)
            link = await ctx.repo.find_link(store.store_id, product_id)
            assert item is not None
            assert link is not None
            assert item.source_image is not None
            if link.source_fingerprint != item.source_image.fingerprint:
                return False
            if link.title != item.title:
                return False
    return True


def jobs_of(sims: Simulators, pergai_ids: set[str], since: float) -> list[GenerationRecord]:
    return [
        g
        for g in sims.pergai_state.generations.values()
        if g.product_id in pergai_ids and g.created_at >= since
    ]


async def check_scenario(
    ctx: Context,
    sims: Simulators,
    s: Scenario,
    before: dict[str, ProductLink],
    started: float,
) -> None:
    store = ctx.stores[s.store]
    state = sims.pergai_state
    for product_id in s.product_ids:
        link = await ctx.repo.find_link(store.store_id, product_id)
        item = await store.connector.get_product(product_id)
        assert link is not None
        assert item is not None
        assert item.source_image is not None
        assert link.stage is Stage.DONE, (s.store, product_id, link.stage, link.reason)
        assert link.source_fingerprint == item.source_image.fingerprint

        old_product = before[product_id].pergai_product_id or ""
        if product_id in s.renames:
            assert jobs_of(sims, {old_product}, started) == [], (s.store, product_id)
            assert link.pergai_product_id == old_product, "a title change made a PergAI product"
            assert link.title.startswith("Yeni ad")
            continue

        # The new cycle renders from a PergAI product made from the new image.
        assert link.pergai_product_id is not None and link.pergai_product_id != old_product
        reference = state.products[link.pergai_product_id].image_file
        expected = "second-" if product_id in s.late_changes else "new-"
        assert reference.rsplit("/", 1)[-1].startswith(expected), (s.store, reference)
        jobs = jobs_of(sims, {link.pergai_product_id}, started)
        assert len(jobs) == OUTPUTS, (s.store, product_id, [g.id for g in jobs])
        assert all(g.source_file == reference for g in jobs), (s.store, product_id)
        if product_id in s.image_changes:
            assert jobs_of(sims, {old_product}, started) == [], (s.store, product_id)

        # Each source image that completed a cycle left its outputs once. A poll
        # between a late product's two edits may have completed a cycle for the first.
        ours = [image.generation_id for image in item.images if image.generation_id]
        assert len(ours) == len(set(ours)), (s.store, product_id, ours)
        renders = await ctx.repo.renders_of_link(link.id or 0)
        written = {r.generation_id for r in renders if r.status is RenderStatus.WRITTEN}
        assert set(ours) == written, (s.store, product_id)
        assert {g.id for g in jobs} <= written, (s.store, product_id)


def check_signatures(replayed: Replayed, metrics: Metrics) -> None:
    forged = sum(replayed.forged_by_store.values())
    assert forged > 0, "the run sent no forged delivery; it proves nothing about them"
    assert replayed.statuses[401] == forged
    assert set(replayed.statuses) <= {200, 401}, replayed.statuses
    counted = metric_samples(metrics, "pergai_sync_webhooks")
    for store, sent in replayed.forged_by_store.items():
        assert counted.get((store, "bad_signature"), 0) == sent, (store, counted)


def report(
    scenarios: list[Scenario],
    replayed: Replayed,
    late: Replayed,
    caught_after: float,
    metrics: Metrics,
    sims: Simulators,
    first_jobs: int,
) -> None:
    products = sum(len(s.product_ids) for s in scenarios)
    print(f"\nwebhooks in the wild: {products} products over {len(scenarios)} stores")
    print(f"  deliveries sent {replayed.sent}, answers {dict(replayed.statuses)}")
    print(f"  dropped for good {len(replayed.dropped)}, forged {dict(replayed.forged_by_store)}")
    print(f"  late deliveries replayed after newer changes: {late.sent}")
    print(f"  image edits recorded within {caught_after:.1f} s (poll every {POLL_INTERVAL} s)")
    print(f"  daemon webhook counters: {metric_samples(metrics, 'pergai_sync_webhooks')}")
    print(f"  PergAI jobs: {first_jobs} first sync, {len(sims.pergai_state.generations)} in all")
