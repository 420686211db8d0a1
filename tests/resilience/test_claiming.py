"""Claims: a store with a backlog of old writes leaves room for the others; idle means quiet."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from connectors.base import StoreImage
from storage.models import RenderStatus
from sync.lanes import Claim, Step
from sync.renders import check_running
from tests.bad_input.helpers import product, running_daemon


async def test_backlog_store_gets_only_its_share(tmp_path: Path) -> None:
    products = [product(f"Fair {n}") for n in range(4)]
    async with running_daemon(tmp_path, products) as run:
        await run.settle()
        shop_id = run.store("shop").store_id

        # Every render is due for writing again, and the shop's have waited an hour longer.
        now = datetime.now(UTC).replace(tzinfo=None)
        async with run.ctx.repo.db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE renders SET status = :status, next_attempt_at = :now"),
                {"status": RenderStatus.COMPLETED.value, "now": now},
            )
            await connection.execute(
                text(
                    "UPDATE renders SET next_attempt_at = :earlier WHERE link_id IN "
                    "(SELECT id FROM product_links WHERE store_id = :store)"
                ),
                {"earlier": now - timedelta(hours=1), "store": shop_id},
            )

        engine = run.daemon.engine
        per_store = run.settings.daemon.concurrency_per_store
        steps = await engine.claim_writes(room=2 * per_store)
        for step in steps:
            step().close()

        assert len(steps) == 2 * per_store
        assert engine.writes_in_flight == Counter(
            {shop_id: per_store, run.store("woo").store_id: per_store}
        )


async def test_idle_engine_does_not_spin(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        await run.settle()
        engine = run.daemon.engine
        claims: Counter[str] = Counter()
        for lane in engine.lanes:
            lane.claim = counting(lane.claim, lane.name, claims)

        stopping, wake = asyncio.Event(), asyncio.Event()
        running = asyncio.create_task(engine.run(stopping, wake, interval=0.5))
        await asyncio.sleep(1.6)
        stopping.set()
        wake.set()
        await running

        # One fill at the start, one per interval and one after the stop's wake.
        assert max(claims.values()) <= 5, claims


def counting(claim: Claim, name: str, claims: Counter[str]) -> Claim:
    async def counted(room: int) -> list[Step]:
        claims[name] += 1
        return await claim(room)

    return counted


async def test_lost_twins_adopt_one_each(tmp_path: Path) -> None:
    """Two stores list the same product, both creates were lost, and each link adopts one.

    Both links look the lost creates up at the same time and pick the same
    candidate first. The second to record it must look again, not share it.
    """
    async with running_daemon(tmp_path, [product("Twin mug")], edit_config=quick_retry) as run:
        await run.poll()
        links = [(await run.links(store))[0] for store in ("shop", "woo")]
        lost = set()
        for link in links:
            assert link.source_image_url is not None
            created = await run.ctx.pergai.create_product(
                link.title, "other", link.source_image_url
            )
            lost.add(created.id)
        async with run.ctx.repo.db.engine.begin() as connection:
            await connection.execute(text("UPDATE product_links SET attempts = 1"))

        await run.settle()

        adopted = {(await run.links(store))[0].pergai_product_id for store in ("shop", "woo")}
        assert adopted == lost


def quick_retry(text: str, sims: object) -> str:
    return text.replace("[daemon]\n", "[daemon]\nretry_base_delay = 0.2\n", 1)


async def test_job_check_skips_superseded_render(tmp_path: Path) -> None:
    async with running_daemon(tmp_path, [product("Slow lamp")], generation_duration=30) as run:
        await run.poll()
        for _ in range(10):
            await run.daemon.engine.run_due()
            counts = await run.ctx.repo.render_counts()
            if sum(c.get("running", 0) for c in counts.values()) == 4:  # type: ignore[call-overload]
                break
        await asyncio.sleep(run.settings.daemon.job_check_interval + 0.1)  # checks fall due
        claimed = await run.ctx.repo.claim_renders(
            run.ctx.owner, [RenderStatus.RUNNING], limit=10, lease_seconds=60
        )
        assert len(claimed) == 4, counts

        # The merchant replaces the Shopify product's photo while the check is under way.
        shop_link = next(c.link for c in claimed if c.link.store_id == run.store("shop").store_id)
        item = await run.store("shop").connector.get_product(shop_link.product_id)
        assert item is not None
        newer = replace(
            item,
            updated_at=item.updated_at + timedelta(minutes=1),
            images=(StoreImage("gid://shopify/MediaImage/1", "http://127.0.0.1:1/new.png"),),
        )
        await run.ctx.repo.upsert_catalogue_item(run.store("shop").store_id, newer)

        finished = await check_running(run.ctx, claimed)

        statuses: Counter[RenderStatus] = Counter()
        for link_id in {c.link.id for c in claimed}:
            statuses.update(r.status for r in await run.ctx.repo.renders_of_link(link_id or 0))
        assert finished == []
        assert statuses == Counter({RenderStatus.RUNNING: 2, RenderStatus.SUPERSEDED: 2})
