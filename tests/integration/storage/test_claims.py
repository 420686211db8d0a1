"""Claiming due work: exclusivity under concurrency, leases, expiry, lost leases."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from storage.errors import LeaseLostError, PergaiProductTakenError
from storage.models import RenderStatus, Stage, Store
from storage.repository import Repository
from tests.integration.storage.conftest import MovableClock, make_item

LEASE = 60.0


async def add_products(repo: Repository, store_id: int, count: int) -> None:
    for number in range(count):
        await repo.upsert_catalogue_item(store_id, make_item(f"p{number}"))


async def test_claim_sets_lease(repo: Repository, store: Store, clock: MovableClock) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 3)

    links = await repo.claim_links("a", [Stage.DISCOVERED], limit=2, lease_seconds=LEASE)

    assert [link.product_id for link in links] == ["p0", "p1"]
    assert all(link.lease_owner == "a" for link in links)
    assert all(link.lease_expires_at == clock() + timedelta(seconds=LEASE) for link in links)


async def test_claim_skips_leased_and_future(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 2)
    first = await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    assert first[0].id is not None
    await repo.record_link_step(
        first[0].id, "a", stage=Stage.PUSHED, next_attempt_at=clock() + timedelta(hours=1)
    )
    second = await repo.claim_links("a", [Stage.DISCOVERED], limit=5, lease_seconds=LEASE)

    again = await repo.claim_links("b", [Stage.DISCOVERED, Stage.PUSHED], limit=5, lease_seconds=1)

    assert [link.product_id for link in second] == ["p1"]
    assert again == []


async def test_claim_filters_by_store(repo: Repository, store: Store) -> None:
    assert store.id is not None
    other = await repo.ensure_store("other", "woocommerce", "https://other.example")
    assert other.id is not None
    await add_products(repo, store.id, 2)
    await repo.upsert_catalogue_item(other.id, make_item("x1"))

    links = await repo.claim_links(
        "a", [Stage.DISCOVERED], limit=5, lease_seconds=LEASE, store_id=other.id
    )

    assert [link.product_id for link in links] == ["x1"]


async def test_concurrent_claims_exclusive(
    repo: Repository, store: Store, open_repositories: Callable[[int], list[Repository]]
) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 120)
    claimers = open_repositories(8)

    async def drain(number: int, claimer: Repository) -> list[int]:
        owner = f"daemon-{number}"
        got: list[int] = []
        for _ in range(100):  # bounded: 120 rows at 5 a claim need far fewer rounds
            links = await claimer.claim_links(
                owner, [Stage.DISCOVERED], limit=5, lease_seconds=LEASE
            )
            if not links:
                break
            for link in links:
                assert link.id is not None
                assert link.lease_owner == owner
                await claimer.record_link_step(link.id, owner, stage=Stage.PUSHED)
                got.append(link.id)
        return got

    results = await asyncio.gather(*(drain(n, c) for n, c in enumerate(claimers)))

    counts = Counter(link_id for claimed in results for link_id in claimed)
    assert len(counts) == 120
    assert set(counts.values()) == {1}
    assert (await repo.stage_counts())["acme"] == {Stage.PUSHED: 120}


async def test_expired_lease_taken_over(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 1)
    await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)

    before_expiry = await repo.claim_links("b", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    clock.advance(LEASE + 1)
    after_expiry = await repo.claim_links("b", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)

    assert before_expiry == []
    assert [link.lease_owner for link in after_expiry] == ["b"]


async def test_lost_lease_rejects_record(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 1)
    claimed = await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    link_id = claimed[0].id
    assert link_id is not None
    clock.advance(LEASE + 1)
    await repo.claim_links("b", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    events_before = len(await repo.recent_events())

    with pytest.raises(LeaseLostError, match="daemon a no longer holds"):
        await repo.record_link_step(
            link_id, "a", stage=Stage.PUSHED, action="pushed", pergai_product_id="late"
        )

    link = await repo.get_link(link_id)
    assert link is not None
    assert link.stage is Stage.DISCOVERED
    assert link.pergai_product_id is None
    assert link.lease_owner == "b"
    assert len(await repo.recent_events()) == events_before


async def test_record_step_atomic_with_event(repo: Repository, store: Store) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 1)
    claimed = await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    link_id = claimed[0].id
    assert link_id is not None

    link = await repo.record_link_step(
        link_id,
        "a",
        stage=Stage.PUSHED,
        action="pushed",
        message="PergAI product pp-1",
        pergai_product_id="pp-1",
        attempts=1,
    )

    event = (await repo.recent_events(1))[0]
    assert link.stage is Stage.PUSHED
    assert link.pergai_product_id == "pp-1"
    assert link.lease_owner is None
    assert (event.action, event.link_id, event.owner) == ("pushed", link_id, "a")
    assert event.message == "PergAI product pp-1"


async def test_note_attempt_needs_lease(repo: Repository, store: Store) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 1)
    claimed = await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    link_id = claimed[0].id
    assert link_id is not None

    assert await repo.note_attempt(link_id, "a") == 1
    assert await repo.note_attempt(link_id, "a") == 2
    with pytest.raises(LeaseLostError):
        await repo.note_attempt(link_id, "b")


async def test_renew_and_release_leases(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 2)
    await repo.claim_links("a", [Stage.DISCOVERED], limit=2, lease_seconds=LEASE)
    assert await repo.acquire_store_lease(store.id, "a", LEASE)

    clock.advance(LEASE - 1)
    renewed = await repo.renew_leases("a", LEASE)
    clock.advance(LEASE - 1)
    taken = await repo.claim_links("b", [Stage.DISCOVERED], limit=2, lease_seconds=LEASE)
    released = await repo.release_leases("a")
    after_release = await repo.claim_links("b", [Stage.DISCOVERED], limit=2, lease_seconds=LEASE)

    assert renewed == 3
    assert taken == []
    assert released == 3
    assert len(after_release) == 2


async def test_release_one_link(repo: Repository, store: Store) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 1)
    claimed = await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    link_id = claimed[0].id
    assert link_id is not None

    assert not await repo.release_link(link_id, "b")
    assert await repo.release_link(link_id, "a")
    assert len(await repo.claim_links("b", [Stage.DISCOVERED], limit=1, lease_seconds=1)) == 1


async def test_no_renders_for_replaced_source(repo: Repository, store: Store) -> None:
    assert store.id is not None
    result = await repo.upsert_catalogue_item(store.id, make_item())

    with pytest.raises(LeaseLostError, match="has a new source image"):
        await repo.ensure_renders(result.link_id, ["scene:studio"], "img-0|an older image")

    assert await repo.renders_of_link(result.link_id) == []


async def test_pergai_product_on_one_link_only(repo: Repository, store: Store) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 2)
    first, second = await repo.claim_links("a", [Stage.DISCOVERED], limit=2, lease_seconds=LEASE)
    assert first.id is not None and second.id is not None
    await repo.record_link_step(first.id, "a", stage=Stage.PUSHED, pergai_product_id="P-1")

    with pytest.raises(PergaiProductTakenError, match="P-1 is already recorded"):
        await repo.record_link_step(second.id, "a", stage=Stage.PUSHED, pergai_product_id="P-1")

    unchanged = await repo.get_link(second.id)
    assert unchanged is not None
    assert unchanged.stage is Stage.DISCOVERED
    assert unchanged.pergai_product_id is None


async def test_store_lease_one_poller(repo: Repository, store: Store, clock: MovableClock) -> None:
    assert store.id is not None

    assert await repo.acquire_store_lease(store.id, "a", LEASE)
    assert not await repo.acquire_store_lease(store.id, "b", LEASE)
    assert await repo.acquire_store_lease(store.id, "a", LEASE)
    clock.advance(LEASE + 1)
    assert await repo.acquire_store_lease(store.id, "b", LEASE)
    await repo.release_store_lease(store.id, "a")
    assert not await repo.acquire_store_lease(store.id, "a", LEASE)
    await repo.release_store_lease(store.id, "b")
    assert await repo.acquire_store_lease(store.id, "a", LEASE)


async def test_store_lease_race_one_winner(
    store: Store, open_repositories: Callable[[int], list[Repository]]
) -> None:
    assert store.id is not None
    store_id = store.id
    contenders = open_repositories(8)

    won = await asyncio.gather(
        *(r.acquire_store_lease(store_id, f"d{n}", LEASE) for n, r in enumerate(contenders))
    )

    assert won.count(True) == 1


async def test_cursor_needs_store_lease(repo: Repository, store: Store) -> None:
    assert store.id is not None
    cursor_time = make_item().updated_at
    from storage.stores import Cursor

    assert await repo.get_cursor(store.id) is None
    await repo.acquire_store_lease(store.id, "a", LEASE)
    await repo.set_cursor(store.id, Cursor(cursor_time, "p9"), owner="a")
    with pytest.raises(LeaseLostError):
        await repo.set_cursor(store.id, Cursor(cursor_time, "p10"), owner="b")

    assert await repo.get_cursor(store.id) == Cursor(cursor_time, "p9")


async def test_renders_idempotent_and_claimed_once(
    repo: Repository, store: Store, open_repositories: Callable[[int], list[Repository]]
) -> None:
    assert store.id is not None
    result = await repo.upsert_catalogue_item(store.id, make_item())
    link = await repo.get_link(result.link_id)
    assert link is not None and link.source_fingerprint is not None
    keys = ["scene:studio", "scene:beach", "tool:remove-bg"]

    first = await repo.ensure_renders(result.link_id, keys, link.source_fingerprint)
    second = await repo.ensure_renders(result.link_id, keys, link.source_fingerprint)
    claimers = open_repositories(4)
    claims = await asyncio.gather(
        *(
            c.claim_renders(f"d{n}", [RenderStatus.REQUESTED], limit=3, lease_seconds=LEASE)
            for n, c in enumerate(claimers)
        )
    )

    assert [render.output_key for render in first] == keys
    assert [render.id for render in second] == [render.id for render in first]
    claimed_ids = [claimed.render.id for batch in claims for claimed in batch]
    assert sorted(claimed_ids) == sorted(render.id for render in first)
    assert all(claimed.link.id == result.link_id for batch in claims for claimed in batch)


async def test_render_step_and_lost_lease(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    result = await repo.upsert_catalogue_item(store.id, make_item())
    link = await repo.get_link(result.link_id)
    assert link is not None and link.source_fingerprint is not None
    await repo.ensure_renders(result.link_id, ["scene:studio"], link.source_fingerprint)
    claimed = await repo.claim_renders(
        "a", [RenderStatus.REQUESTED], limit=1, lease_seconds=LEASE, store_id=store.id
    )
    render_id = claimed[0].render.id
    assert render_id is not None

    running = await repo.record_render_step(
        render_id,
        "a",
        status=RenderStatus.RUNNING,
        generation_id="gen-1",
        next_attempt_at=clock(),
        action="render_started",
        release=False,
    )
    written = await repo.record_render_step(
        render_id,
        "a",
        status=RenderStatus.WRITTEN,
        store_image_id="img-77",
        detached_ids=["img-1", "img-2"],
        action="written",
    )

    assert running.lease_owner == "a"
    assert written.generation_id == "gen-1"
    assert written.detached_ids == ["img-1", "img-2"]
    assert written.lease_owner is None
    assert await repo.generation_recorded("gen-1")
    with pytest.raises(LeaseLostError):
        await repo.record_render_step(render_id, "a", status=RenderStatus.FAILED)


async def test_deletion_takes_leases(repo: Repository, store: Store) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 1)
    claimed = await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    link_id = claimed[0].id
    assert link_id is not None

    await repo.mark_deleted(store.id, "p0")

    with pytest.raises(LeaseLostError):
        await repo.record_link_step(link_id, "a", stage=Stage.PUSHED)


async def test_lease_link_any_stage(repo: Repository, store: Store, clock: MovableClock) -> None:
    assert store.id is not None
    await add_products(repo, store.id, 1)
    claimed = await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    link_id = claimed[0].id
    assert link_id is not None
    await repo.record_link_step(link_id, "a", stage=Stage.WRITING)

    assert await repo.lease_link(link_id, "a", LEASE)
    assert await repo.lease_link(link_id, "a", LEASE)
    assert not await repo.lease_link(link_id, "b", LEASE)
    clock.advance(LEASE + 1)
    assert await repo.lease_link(link_id, "b", LEASE)
