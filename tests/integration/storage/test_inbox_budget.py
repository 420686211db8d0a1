"""The webhook inbox and the daily budget, including concurrent callers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from storage.errors import LeaseLostError
from storage.inbox import NewDelivery
from storage.models import Store
from storage.repository import Repository
from tests.integration.storage.conftest import MovableClock

BODY = '{"title": "Kapüşonlu 🧥"}'.encode()


async def test_duplicate_delivery_seen_once(repo: Repository, store: Store) -> None:
    assert store.id is not None

    first = await repo.record_delivery(store.id, "shopify", "evt-1", "products/update", BODY)
    again = await repo.record_delivery(store.id, "shopify", "evt-1", "products/update", b"{}")

    pending = await repo.unprocessed_deliveries()
    assert first.new
    assert not again.new
    assert again.id == first.id
    assert [delivery.body for delivery in pending] == [BODY]


async def test_batch_records_each_key_once(repo: Repository, store: Store) -> None:
    assert store.id is not None
    await repo.record_delivery(store.id, "shopify", "evt-1", "products/update", BODY)

    results = await repo.record_deliveries(
        [
            NewDelivery(store.id, "shopify", key, "products/update", BODY)
            for key in ("evt-1", "evt-2", "evt-3", "evt-2")
        ]
    )

    pending = await repo.unprocessed_deliveries()
    assert [r.new for r in results] == [False, True, True, False]
    assert results[1].id == results[3].id
    assert len(pending) == 3


async def test_same_key_other_store_is_new(repo: Repository, store: Store) -> None:
    assert store.id is not None
    other = await repo.ensure_store("other", "woocommerce", "https://other.example")
    assert other.id is not None

    await repo.record_delivery(store.id, "shopify", "evt-1", "products/update", BODY)
    result = await repo.record_delivery(other.id, "woocommerce", "evt-1", "product.updated", BODY)

    assert result.new


async def test_concurrent_duplicates_one_row(
    store: Store, repo: Repository, open_repositories: Callable[[int], list[Repository]]
) -> None:
    assert store.id is not None
    store_id = store.id
    receivers = open_repositories(6)

    results = await asyncio.gather(
        *(
            r.record_delivery(store_id, "shopify", "evt-9", "products/update", BODY)
            for r in receivers
        )
    )

    assert [result.new for result in results].count(True) == 1
    assert len({result.id for result in results}) == 1
    assert len(await repo.unprocessed_deliveries()) == 1


async def test_claim_process_and_prune(repo: Repository, store: Store, clock: MovableClock) -> None:
    assert store.id is not None
    for number in range(3):
        await repo.record_delivery(store.id, "shopify", f"evt-{number}", "products/update", BODY)
        clock.advance(1)

    claimed = await repo.claim_deliveries("a", limit=2, lease_seconds=60)
    others = await repo.claim_deliveries("b", limit=5, lease_seconds=60)
    for delivery in claimed:
        assert delivery.id is not None
        await repo.mark_delivery_processed(delivery.id, "updated 1 product", owner="a")
    with pytest.raises(LeaseLostError):
        assert others[0].id is not None
        await repo.mark_delivery_processed(others[0].id, "late", owner="a")
    clock.advance(86400 * 8)
    pruned = await repo.prune_deliveries(timedelta(days=7))

    assert [d.delivery_key for d in claimed] == ["evt-0", "evt-1"]
    assert [d.delivery_key for d in others] == ["evt-2"]
    assert pruned == 2
    assert [d.delivery_key for d in await repo.unprocessed_deliveries()] == ["evt-2"]


async def test_batch_mark_skips_lost_leases(repo: Repository, store: Store) -> None:
    assert store.id is not None
    for number in range(3):
        await repo.record_delivery(store.id, "shopify", f"evt-{number}", "products/update", BODY)
    mine = await repo.claim_deliveries("a", limit=2, lease_seconds=60)
    theirs = await repo.claim_deliveries("b", limit=1, lease_seconds=60)
    ids = [d.id for d in mine + theirs if d.id is not None]

    lost = await repo.mark_deliveries_processed([(i, "recorded") for i in ids], owner="a")

    assert lost == [ids[2]]
    assert [d.delivery_key for d in await repo.unprocessed_deliveries()] == ["evt-2"]


async def test_budget_stops_at_limit(repo: Repository, store: Store) -> None:
    assert store.id is not None
    day = date(2024, 5, 1)

    results = [await repo.reserve_budget(store.id, 3, day=day) for _ in range(5)]
    await repo.release_budget(store.id, day=day)
    after_release = await repo.reserve_budget(store.id, 3, day=day)
    next_day = await repo.reserve_budget(store.id, 3, 3, day=day + timedelta(days=1))

    assert results == [True, True, True, False, False]
    assert after_release
    assert next_day
    assert await repo.budget_used(store.id, day=day) == 3
    assert await repo.reserve_budget(store.id, 3, 2, day=date(2024, 5, 3))
    assert not await repo.reserve_budget(store.id, 3, 2, day=date(2024, 5, 3))


async def test_concurrent_budget_never_over(
    repo: Repository, store: Store, open_repositories: Callable[[int], list[Repository]]
) -> None:
    assert store.id is not None
    store_id = store.id
    reservers = open_repositories(8)
    limit = 25

    async def reserve_many(reserver: Repository) -> int:
        granted = 0
        for _ in range(10):
            granted += await reserver.reserve_budget(store_id, limit)
        return granted

    granted = await asyncio.gather(*(reserve_many(r) for r in reservers))

    assert sum(granted) == limit
    assert await repo.budget_used(store_id) == limit
    assert (await repo.usage_for_day()) == {"acme": limit}
