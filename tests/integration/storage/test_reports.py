"""Summaries for `status`, lookups for `revert`, `retry`, settling links and the event log."""

from __future__ import annotations

from datetime import timedelta

from storage.models import RenderStatus, Stage, Store
from storage.repository import Repository
from tests.integration.storage.conftest import MovableClock, make_item

LEASE = 60.0


async def link_with_render(repo: Repository, store_id: int, product_id: str) -> tuple[int, int]:
    """Create a link in stage `rendering` with one claimed render; return both ids."""
    result = await repo.upsert_catalogue_item(store_id, make_item(product_id))
    link = await repo.get_link(result.link_id)
    assert link is not None and link.source_fingerprint is not None
    claimed = await repo.claim_links("a", [Stage.DISCOVERED], limit=1, lease_seconds=LEASE)
    assert claimed[0].id == result.link_id
    await repo.record_link_step(result.link_id, "a", stage=Stage.RENDERING)
    renders = await repo.ensure_renders(result.link_id, ["scene:studio"], link.source_fingerprint)
    claimed_renders = await repo.claim_renders(
        "a", [RenderStatus.REQUESTED], limit=1, lease_seconds=LEASE
    )
    assert claimed_renders[0].render.id == renders[0].id
    assert renders[0].id is not None
    return result.link_id, renders[0].id


async def test_status_summaries(repo: Repository, store: Store) -> None:
    assert store.id is not None
    link_id, render_id = await link_with_render(repo, store.id, "p1")
    await repo.record_render_step(
        render_id,
        "a",
        status=RenderStatus.FAILED,
        reason="PergAI rejected the image: too small",
        last_error="400 image too small",
        action="render_failed",
    )
    await repo.upsert_catalogue_item(store.id, make_item("p2"))

    stages = await repo.stage_counts()
    renders = await repo.render_counts()
    failures = await repo.recent_failures()

    assert stages == {"acme": {Stage.RENDERING: 1, Stage.DISCOVERED: 1}}
    assert renders == {"acme": {RenderStatus.FAILED: 1}}
    assert len(failures) == 1
    assert failures[0].link_id == link_id
    assert failures[0].output_key == "scene:studio"
    assert failures[0].reason == "PergAI rejected the image: too small"


async def test_settle_link_checks_fingerprint(repo: Repository, store: Store) -> None:
    assert store.id is not None
    link_id, _ = await link_with_render(repo, store.id, "p1")
    link = await repo.get_link(link_id)
    assert link is not None

    stale = await repo.settle_link(link_id, "other|fingerprint", Stage.DONE)
    settled = await repo.settle_link(link_id, link.source_fingerprint, Stage.DONE)
    again = await repo.settle_link(link_id, link.source_fingerprint, Stage.DONE)

    after = await repo.get_link(link_id)
    assert not stale
    assert settled
    assert not again
    assert after is not None and after.stage is Stage.DONE


async def test_revert_targets_written_only(repo: Repository, store: Store) -> None:
    assert store.id is not None
    link_id, render_id = await link_with_render(repo, store.id, "p1")
    await link_with_render(repo, store.id, "p2")
    await repo.record_render_step(
        render_id,
        "a",
        status=RenderStatus.WRITTEN,
        store_image_id="img-50",
        detached_ids=["img-1"],
        action="written",
    )

    targets = await repo.revert_targets(store.id)
    one_product = await repo.revert_targets(store.id, "p2")
    await repo.mark_render_reverted(render_id)

    assert [target.link.id for target in targets] == [link_id]
    assert [render.detached_ids for render in targets[0].renders] == [["img-1"]]
    assert one_product == []
    assert await repo.revert_targets(store.id) == []
    assert (await repo.recent_events(1))[0].action == "reverted"


async def test_retry_failed_requeues(repo: Repository, store: Store, clock: MovableClock) -> None:
    assert store.id is not None
    link_id, render_id = await link_with_render(repo, store.id, "p1")
    await repo.record_render_step(render_id, "a", status=RenderStatus.FAILED, attempts=5)
    await repo.set_link_stage(link_id, Stage.FAILED, action="failed", reason="out of attempts")

    clock.advance(10)
    count = await repo.retry_failed(store.id)

    link = await repo.get_link(link_id)
    renders = await repo.renders_of_link(link_id)
    assert count == 1
    assert link is not None
    assert link.stage is Stage.DISCOVERED
    assert link.next_attempt_at == clock()
    assert [(r.status, r.attempts) for r in renders] == [(RenderStatus.REQUESTED, 0)]
    assert await repo.retry_failed(store.id) == 0


async def test_events_recent_and_pruned(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    await repo.append_event("poll", "read 3 changed products", store_id=store.id, owner="a")
    clock.advance(86400 * 31)
    await repo.append_event("poll", "read 0 changed products", store_id=store.id, owner="a")

    pruned = await repo.prune_events(timedelta(days=30))

    events = await repo.recent_events(store_id=store.id)
    assert pruned == 1
    assert [event.message for event in events] == ["read 0 changed products"]


async def test_collection_id_round_trip(repo: Repository, store: Store) -> None:
    assert store.id is not None

    assert await repo.get_collection_id(store.id) is None
    await repo.set_collection_id(store.id, "col-1")
    again = await repo.ensure_store("acme", "shopify", "acme-new.myshopify.com")

    assert await repo.get_collection_id(store.id) == "col-1"
    assert again.id == store.id
    assert again.address == "acme-new.myshopify.com"
    assert [s.name for s in await repo.list_stores()] == ["acme"]
