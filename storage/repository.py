"""The queries the engine runs on the mapping database, gathered on one ``Repository``.

Set-up::

    from storage.database import Database           # Database(url), .aclose()
    from storage.migrate import upgrade             # await upgrade(url) -> revision
    from storage.repository import Repository
    db = Database("sqlite+aiosqlite:///pergai-sync.db")   # or postgresql+asyncpg://...
    lock = db.lock_for_daemon(owner)                # SQLite: one daemon per file
    repo = Repository(db, clock=utc_now)            # clock returns aware UTC datetimes

Every method is ``async`` and opens its own short transaction; every error is
a ``sync.errors.StorageError`` (``storage.errors.LeaseLostError`` when the
caller no longer holds a lease). Ids: ``store_id``, ``link_id`` and
``render_id`` are database integers; store product and variant ids are strings,
and ``variant_id=""`` means the product itself.

Enums (``storage.models``): ``Stage`` discovered, skipped, pushed, rendering,
writing, done, failed, deleted; ``RenderStatus`` requested, running, completed,
review, written, failed, reverted; ``UpsertOutcome`` (``storage.catalogue``)
created, updated, stale, unchanged.

Stores (``storage.stores``)
    ensure_store(name, platform, address) -> Store
    get_store(name) -> Store | None
    list_stores() -> list[Store]
    get_cursor(store_id) -> Cursor | None
    set_cursor(store_id, Cursor(updated_at, product_id=""), owner=None)
    get_collection_id(store_id) -> str | None
    set_collection_id(store_id, collection_id)
    acquire_store_lease(store_id, owner, lease_seconds) -> bool
    release_store_lease(store_id, owner)
    get_category_link(store_id, category_path) -> str | None
    set_category_link(store_id, category_path, pergai_category_id)

Catalogue (``storage.catalogue``)
    upsert_catalogue_item(store_id, item, variant_id="") -> UpsertResult
        UpsertResult(outcome, link_id, stage, fingerprint_changed)
    mark_deleted(store_id, product_id, owner=None) -> int
    get_link(link_id) -> ProductLink | None
    find_link(store_id, product_id, variant_id="") -> ProductLink | None
    links_of_product(store_id, product_id) -> list[ProductLink]
    recorded_pergai_products(pergai_product_ids) -> set[str]
    live_product_ids(store_id) -> list[str]   (products with a link not deleted)

Claims (``storage.claims``)
    claim_links(owner, stages, limit=, lease_seconds=, store_id=None) -> list[ProductLink]
    claim_renders(owner, statuses, limit=, lease_seconds=, store_id=None)
        -> list[ClaimedRender(render, link)]
    renew_leases(owner, lease_seconds) -> int
    release_leases(owner) -> int
    release_link(link_id, owner) -> bool
    release_render(render_id, owner) -> bool
    lease_link(link_id, owner, lease_seconds) -> bool   (any stage; used while writing images)

Steps (``storage.steps``); keyword arguments left ``UNSET`` keep the stored value
    record_link_step(link_id, owner, *, stage, action=None, message="",
        next_attempt_at=None, reason=None, pergai_product_id=UNSET, last_error=UNSET,
        attempts=UNSET, release=True) -> ProductLink
    record_render_step(render_id, owner, *, status, action=None, message="",
        next_attempt_at=None, reason=None, generation_id=UNSET, result_url=UNSET,
        store_image_id=UNSET, detached_ids=UNSET, last_error=UNSET, attempts=UNSET,
        release=True) -> Render
    note_attempt(row_id, owner, *, render=False) -> int
    settle_link(link_id, source_fingerprint, stage, reason=None) -> bool
    ensure_renders(link_id, output_keys, source_fingerprint, next_attempt_at=None)
        -> list[Render]
    renders_of_link(link_id, source_fingerprint=None) -> list[Render]
    find_render_by_generation(generation_id) -> Render | None
    links_to_settle(limit) -> list[int]   (rendering links whose renders all finished)
    generation_recorded(generation_id) -> bool
    set_link_stage(link_id, stage, *, action, message="", reason=None,
        next_attempt_at=None, reset_attempts=False)
    retry_failed(store_id=None, product_id=None) -> int
    reopen_for_config(store_id, output_keys) -> int   (skipped, and done without an output)

Webhook inbox (``storage.inbox``)
    record_delivery(store_id, platform, delivery_key, topic, body, received_at=None)
        -> RecordedDelivery(id, new)
    record_deliveries(deliveries, *, received_at=None) -> list[RecordedDelivery]
    unprocessed_deliveries(limit=100, store_id=None) -> list[InboxDelivery]
    claim_deliveries(owner, *, limit, lease_seconds, store_id=None) -> list[InboxDelivery]
    mark_delivery_processed(delivery_id, outcome, *, owner=None)
    mark_deliveries_processed(outcomes, *, owner=None) -> list[int]   (ids not marked)
    prune_deliveries(older_than: timedelta) -> int

Budget (``storage.budget``); days are UTC dates, default today
    reserve_budget(store_id, limit, n=1, *, day=None) -> bool
    release_budget(store_id, n=1, *, day=None)
    budget_used(store_id, *, day=None) -> int
    today() -> date
    next_budget_reset(now) -> datetime   (module function)

Reports (``storage.reports``)
    ping()
    stage_counts() -> dict[store name, dict[Stage, int]]
    render_counts() -> dict[store name, dict[RenderStatus, int]]
    skip_reasons() -> list[(store name, reason, count)]
    recent_failures(limit=20, store_id=None) -> list[Failure]
    usage_for_day(day=None) -> dict[store name, int]
    revert_targets(store_id, product_id=None) -> list[RevertTarget(link, renders)]
    mark_render_reverted(render_id, message="")
    append_event(action, message, *, store_id=None, link_id=None, product_id=None, owner=None)
    recent_events(limit=50, store_id=None) -> list[Event]
    prune_events(older_than: timedelta) -> int
"""

from __future__ import annotations

from storage.budget import BudgetQueries
from storage.catalogue import CatalogueQueries
from storage.claims import ClaimQueries
from storage.inbox import InboxQueries
from storage.reports import ReportQueries
from storage.steps import StepQueries
from storage.stores import StoreQueries


class Repository(
    StoreQueries,
    CatalogueQueries,
    ClaimQueries,
    StepQueries,
    InboxQueries,
    BudgetQueries,
    ReportQueries,
):
    """Every query of the mapping database; see the module docstring for the list.

    ``Repository(database, clock=...)``: the clock (default: the system's UTC
    time) decides what is due and when leases expire, so tests can move time.
    """
