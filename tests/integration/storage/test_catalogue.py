"""Upserting catalogue items: ordering, stage rules, variants, deletion, Unicode."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from connectors.base import StoreImage, StoreVariant
from storage.catalogue import UpsertOutcome
from storage.errors import LeaseLostError
from storage.models import RenderStatus, Stage, Store
from storage.repository import Repository
from tests.integration.storage.conftest import MovableClock, make_item

OWNER = "daemon-a"


async def claim_one(repo: Repository, stage: Stage) -> int:
    links = await repo.claim_links(OWNER, [stage], limit=1, lease_seconds=60)
    assert len(links) == 1
    assert links[0].id is not None
    return links[0].id


async def test_new_item_created_and_due(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    result = await repo.upsert_catalogue_item(store.id, make_item())

    link = await repo.get_link(result.link_id)
    assert result.outcome is UpsertOutcome.CREATED
    assert result.fingerprint_changed
    assert link is not None
    assert link.stage is Stage.DISCOVERED
    assert link.next_attempt_at == clock()
    assert link.source_fingerprint == "img-1|https://cdn.example.com/p1.png"


async def test_same_item_twice_unchanged(repo: Repository, store: Store) -> None:
    assert store.id is not None
    await repo.upsert_catalogue_item(store.id, make_item())

    result = await repo.upsert_catalogue_item(store.id, make_item())

    assert result.outcome is UpsertOutcome.UNCHANGED
    assert not result.fingerprint_changed


async def test_older_item_is_stale(repo: Repository, store: Store) -> None:
    assert store.id is not None
    newer = make_item(title="New title")
    older = make_item(title="Old title", updated_at=newer.updated_at - timedelta(seconds=1))
    await repo.upsert_catalogue_item(store.id, newer)

    result = await repo.upsert_catalogue_item(store.id, older)

    link = await repo.get_link(result.link_id)
    assert result.outcome is UpsertOutcome.STALE
    assert link is not None
    assert link.title == "New title"


async def test_newer_item_updates(repo: Repository, store: Store) -> None:
    assert store.id is not None
    first = make_item(title="First")
    await repo.upsert_catalogue_item(store.id, first)

    second = make_item(title="Second", updated_at=first.updated_at + timedelta(minutes=1))
    result = await repo.upsert_catalogue_item(store.id, second)

    link = await repo.get_link(result.link_id)
    assert result.outcome is UpsertOutcome.UPDATED
    assert not result.fingerprint_changed
    assert link is not None
    assert link.title == "Second"
    assert link.store_updated_at == second.updated_at


async def test_equal_time_other_content_updates(repo: Repository, store: Store) -> None:
    assert store.id is not None
    await repo.upsert_catalogue_item(store.id, make_item(title="Before"))

    result = await repo.upsert_catalogue_item(store.id, make_item(title="After"))

    link = await repo.get_link(result.link_id)
    assert result.outcome is UpsertOutcome.UPDATED
    assert link is not None
    assert link.title == "After"


async def test_new_source_image_starts_new_cycle(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    first = make_item()
    await repo.upsert_catalogue_item(store.id, first)
    link_id = await claim_one(repo, Stage.DISCOVERED)
    await repo.record_link_step(
        link_id, OWNER, stage=Stage.DONE, action="done", attempts=3, last_error="old failure"
    )

    clock.advance(60)
    changed = make_item(
        image_id="img-2",
        image_url="https://cdn.example.com/p1-new.png",
        updated_at=first.updated_at + timedelta(hours=1),
    )
    result = await repo.upsert_catalogue_item(store.id, changed)

    link = await repo.get_link(link_id)
    assert result.outcome is UpsertOutcome.UPDATED
    assert result.fingerprint_changed
    assert result.stage is Stage.DISCOVERED
    assert link is not None
    assert link.stage is Stage.DISCOVERED
    assert link.attempts == 0
    assert link.last_error is None
    assert link.next_attempt_at == clock()


async def test_new_source_image_supersedes_unwritten_renders(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    first = make_item()
    await repo.upsert_catalogue_item(store.id, first)
    link_id = await claim_one(repo, Stage.DISCOVERED)
    old = await repo.get_link(link_id)
    assert old is not None and old.source_fingerprint is not None
    await repo.ensure_renders(link_id, ["scene:studio", "tool:remove-bg"], old.source_fingerprint)
    claimed = await repo.claim_renders(OWNER, [RenderStatus.REQUESTED], limit=1, lease_seconds=60)
    written = claimed[0].render
    assert written.id is not None
    await repo.record_render_step(written.id, OWNER, status=RenderStatus.WRITTEN)
    running = await repo.claim_renders(OWNER, [RenderStatus.REQUESTED], limit=1, lease_seconds=60)

    clock.advance(60)
    changed = make_item(image_id="img-2", updated_at=first.updated_at + timedelta(hours=1))
    await repo.upsert_catalogue_item(store.id, changed)

    statuses = {r.id: r.status for r in await repo.renders_of_link(link_id)}
    assert statuses[written.id] is RenderStatus.WRITTEN
    assert statuses[running[0].render.id] is RenderStatus.SUPERSEDED
    assert await repo.claim_renders(OWNER, list(RenderStatus), limit=10, lease_seconds=60) == []
    # The step still running on the old render can no longer record it.
    with pytest.raises(LeaseLostError):
        assert running[0].render.id is not None
        await repo.record_render_step(
            running[0].render.id, OWNER, status=RenderStatus.RUNNING, generation_id="g-old"
        )
    # A write the store took just before the supersede is recorded, once.
    render_id = running[0].render.id
    assert render_id is not None
    assert await repo.record_superseded_write(render_id, "img-ours", [], "written")
    assert not await repo.record_superseded_write(render_id, "img-ours", [], "written")
    renders = {r.id: r for r in await repo.renders_of_link(link_id)}
    assert renders[render_id].status is RenderStatus.WRITTEN
    assert renders[render_id].store_image_id == "img-ours"


async def test_source_image_that_comes_back_is_rendered_again(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    first = make_item()
    await repo.upsert_catalogue_item(store.id, first)
    link = await repo.find_link(store.id, "p1")
    assert link is not None
    assert link.id is not None
    assert link.source_fingerprint is not None
    await repo.ensure_renders(link.id, ["scene:studio"], link.source_fingerprint)

    clock.advance(60)
    later = first.updated_at + timedelta(hours=1)
    await repo.upsert_catalogue_item(store.id, make_item(image_id="img-2", updated_at=later))
    clock.advance(60)
    await repo.upsert_catalogue_item(store.id, make_item(updated_at=later + timedelta(hours=1)))
    renders = await repo.ensure_renders(link.id, ["scene:studio"], link.source_fingerprint)

    assert [r.status for r in renders] == [RenderStatus.REQUESTED]
    assert renders[0].next_attempt_at == clock()


async def test_update_keeps_stage_without_new_image(repo: Repository, store: Store) -> None:
    assert store.id is not None
    first = make_item()
    await repo.upsert_catalogue_item(store.id, first)
    link_id = await claim_one(repo, Stage.DISCOVERED)
    await repo.record_link_step(link_id, OWNER, stage=Stage.DONE, action="done")

    retitled = make_item(title="Renamed", updated_at=first.updated_at + timedelta(hours=1))
    result = await repo.upsert_catalogue_item(store.id, retitled)

    link = await repo.get_link(link_id)
    assert result.stage is Stage.DONE
    assert link is not None
    assert link.stage is Stage.DONE
    assert link.next_attempt_at is None


async def test_update_reevaluates_skipped_and_failed(repo: Repository, store: Store) -> None:
    assert store.id is not None
    base = make_item()
    stages = {"p1": Stage.SKIPPED, "p2": Stage.FAILED}
    for product_id in stages:
        await repo.upsert_catalogue_item(store.id, make_item(product_id))
    claimed = await repo.claim_links(OWNER, [Stage.DISCOVERED], limit=2, lease_seconds=60)
    for link in claimed:
        assert link.id is not None
        stage = stages[link.product_id]
        await repo.record_link_step(
            link.id, OWNER, stage=stage, action=stage.value, reason="filtered", attempts=5
        )

    for product_id, stage in stages.items():
        newer = make_item(product_id, title="Edited", updated_at=base.updated_at + timedelta(1))
        result = await repo.upsert_catalogue_item(store.id, newer)

        link = await repo.get_link(result.link_id)
        assert result.stage is Stage.DISCOVERED, stage
        assert link is not None
        assert link.stage is Stage.DISCOVERED, stage
        assert link.reason is None, stage
        assert link.attempts == 0, stage


async def test_item_without_image_recorded(repo: Repository, store: Store) -> None:
    assert store.id is not None
    result = await repo.upsert_catalogue_item(store.id, make_item(image_id=None))

    link = await repo.get_link(result.link_id)
    assert result.outcome is UpsertOutcome.CREATED
    assert not result.fingerprint_changed
    assert link is not None
    assert link.source_fingerprint is None
    assert link.stage is Stage.DISCOVERED


async def test_our_image_never_the_source(repo: Repository, store: Store) -> None:
    assert store.id is not None
    ours = StoreImage(
        "img-9",
        "https://cdn.example.com/pergai-0f8fad5b-d9cb-469f-a165-70867728950e.png",
        generation_id="0f8fad5b-d9cb-469f-a165-70867728950e",
    )
    original = StoreImage("img-1", "https://cdn.example.com/p1.png", position=1)
    item = make_item(image_id=None)
    item = type(item)(**{**item.__dict__, "images": (ours, original)})

    result = await repo.upsert_catalogue_item(store.id, item)

    link = await repo.get_link(result.link_id)
    assert link is not None
    assert link.source_image_id == "img-1"


async def test_source_detached_by_a_replace_write_stays(
    repo: Repository, store: Store, clock: MovableClock
) -> None:
    assert store.id is not None
    first = make_item()
    result = await repo.upsert_catalogue_item(store.id, first)
    ours = StoreImage(
        "img-9",
        "https://cdn.example.com/pergai-0f8fad5b-d9cb-469f-a165-70867728950e.png",
        generation_id="0f8fad5b-d9cb-469f-a165-70867728950e",
    )

    clock.advance(60)
    replaced = make_item(image_id=None, updated_at=first.updated_at + timedelta(minutes=1))
    replaced = type(replaced)(**{**replaced.__dict__, "images": (ours,)})
    after = await repo.upsert_catalogue_item(store.id, replaced)
    emptied = make_item(image_id=None, updated_at=first.updated_at + timedelta(minutes=2))
    cleared = await repo.upsert_catalogue_item(store.id, emptied)

    assert not after.fingerprint_changed
    assert after.stage is Stage.DISCOVERED
    # With no image at all the product really lost its source.
    assert cleared.fingerprint_changed
    link = await repo.get_link(result.link_id)
    assert link is not None
    assert link.source_image_id is None


async def test_variant_links_are_separate(repo: Repository, store: Store) -> None:
    assert store.id is not None
    variant_image = StoreImage("img-red", "https://cdn.example.com/red.png")
    item = make_item(
        variants=(StoreVariant("v-red", "Red", variant_image), StoreVariant("v-blue", "Blue"))
    )

    product = await repo.upsert_catalogue_item(store.id, item)
    red = await repo.upsert_catalogue_item(store.id, item, variant_id="v-red")
    blue = await repo.upsert_catalogue_item(store.id, item, variant_id="v-blue")

    links = await repo.links_of_product(store.id, "p1")
    assert len({product.link_id, red.link_id, blue.link_id}) == 3
    assert [link.variant_id for link in links] == ["", "v-blue", "v-red"]
    assert links[2].source_image_id == "img-red"
    assert links[1].source_fingerprint is None


async def test_concurrent_first_upserts_create_once(
    open_repositories: object, store: Store, repo: Repository
) -> None:
    assert store.id is not None
    store_id = store.id
    repositories = open_repositories(6)  # type: ignore[operator]

    results = await asyncio.gather(
        *(r.upsert_catalogue_item(store_id, make_item()) for r in repositories)
    )

    outcomes = sorted(result.outcome.value for result in results)
    assert outcomes == ["created"] + ["unchanged"] * 5
    assert len({result.link_id for result in results}) == 1


async def test_mark_deleted_stops_work(repo: Repository, store: Store) -> None:
    assert store.id is not None
    item = make_item(variants=(StoreVariant("v1", "One"),))
    await repo.upsert_catalogue_item(store.id, item)
    await repo.upsert_catalogue_item(store.id, item, variant_id="v1")
    link_id = await claim_one(repo, Stage.DISCOVERED)

    deleted = await repo.mark_deleted(store.id, "p1")

    links = await repo.links_of_product(store.id, "p1")
    assert deleted == 2
    assert {link.stage for link in links} == {Stage.DELETED}
    assert all(link.lease_owner is None for link in links)
    assert all(link.next_attempt_at is None for link in links)
    assert await repo.live_product_ids(store.id) == []
    assert await repo.mark_deleted(store.id, "p1") == 0
    assert link_id in {link.id for link in links}


async def test_unicode_round_trip(repo: Repository, store: Store) -> None:
    assert store.id is not None
    title = "Kapüşonlu Sweatshirt — Çiçekli 🌸🧥 שלום"
    item = make_item(
        title=title,
        categories=("Giyim", "Üst Giyim", "Kazak & Hırka"),
        tags=("yeni sezon", "🔥"),
        product_type="Sweatshirt ğüşıöç",
    )

    result = await repo.upsert_catalogue_item(store.id, item)
    await repo.set_category_link(store.id, item.category_path, "kategori-ışık-✨")

    link = await repo.get_link(result.link_id)
    assert link is not None
    assert link.title == title
    assert link.category_path == "Giyim > Üst Giyim > Kazak & Hırka"
    assert link.tags == ["yeni sezon", "🔥"]
    assert link.product_type == "Sweatshirt ğüşıöç"
    assert await repo.get_category_link(store.id, item.category_path) == "kategori-ışık-✨"
    assert (await repo.recent_events(1))[0].message == f"new product {title!r}"
