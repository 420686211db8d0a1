"""Discovery: read store catalogues (polling, reconciliation) and webhooks into product links."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta

from connectors.base import CatalogueItem, EventKind, StoreEvent
from storage.errors import LeaseLostError
from storage.stores import Cursor
from sync.context import Context, StoreRuntime
from sync.errors import PergaiSyncError
from sync.server import decode_raw

logger = logging.getLogger(__name__)

# Re-read this much before the cursor: stores stamp changes to the second and a
# write may commit after a scan read past its second.
CURSOR_OVERLAP = timedelta(seconds=2)
# Whole-catalogue scans read this far past now, so products stamped in the future
# (a store clock running ahead, an import) are read at all.
FUTURE_READ = timedelta(days=36500)


async def record_item(
    ctx: Context, store: StoreRuntime, item: CatalogueItem, now: datetime | None = None
) -> None:
    """Upsert a product (and, when configured, each variant with its own image).

    A time in the future is recorded as ``now`` (to the second): kept as it
    is, it would make every later real change look older and be dropped.
    """
    latest = (now or ctx.clock()).replace(microsecond=0)
    if item.updated_at > latest:
        item = replace(item, updated_at=latest)
    await ctx.repo.upsert_catalogue_item(store.store_id, item)
    if store.config.images != "variants":
        return

    # A variant gets its own link only for an image of its own: one it shares with
    # the product is rendered once, and one we wrote must not start a new cycle.
    product_image = item.source_image.id if item.source_image else None
    for variant in item.variants:
        if variant.image is None or variant.image.ours or variant.image.id == product_image:
            continue
        variant_item = replace(item, title=f"{item.title} - {variant.title}")
        await ctx.repo.upsert_catalogue_item(store.store_id, variant_item, variant.id)


async def apply_config(ctx: Context) -> None:
    """Reopen links the current config treats otherwise: new filters or new outputs."""
    for store in ctx.stores.values():
        keys = [output.key for output in store.config.outputs]
        reopened = await ctx.repo.reopen_for_config(store.store_id, keys)
        if reopened:
            logger.info(
                "%d products of %s reopened for the current config",
                reopened,
                store.name,
                extra={"action": "config_reapplied", "store": store.name},
            )


async def poll_store(ctx: Context, store: StoreRuntime, *, full: bool = False) -> int | None:
    """Read the store's changes since its cursor; return how many products, None if leased.

    The per-store lease makes one daemon at a time poll a store. ``full``
    reads the whole catalogue (reconciliation) and also notices deletions.
    """
    lease = PollLease(ctx, store, max(ctx.lease_seconds, 60.0))
    if not await lease.take():
        return None

    try:
        return await scan(ctx, store, lease, full=full)
    except LeaseLostError as error:
        # What was read is recorded; the daemon that took over reads from the old cursor again.
        logger.info("%s", error, extra={"action": "poll_lease_lost", "store": store.name})
        return 0
    finally:
        await ctx.repo.release_store_lease(store.store_id, ctx.owner)


class PollLease:
    """The lease on polling one store, renewed as a long scan goes on.

    The daemon's renewal timer covers it too, but a timer can fall behind on a
    busy event loop. A scan that renews its own lease cannot outlive it.
    """

    def __init__(self, ctx: Context, store: StoreRuntime, seconds: float) -> None:
        self.ctx = ctx
        self.store = store
        self.seconds = seconds
        self.renewed_at = 0.0

    async def take(self) -> bool:
        taken = await self.ctx.repo.acquire_store_lease(
            self.store.store_id, self.ctx.owner, self.seconds
        )
        self.renewed_at = time.monotonic()
        return taken

    async def keep(self) -> None:
        """Renew the lease once a third of it has passed; raise ``LeaseLostError`` if it is gone."""
        if time.monotonic() - self.renewed_at < self.seconds / 3:
            return
        if not await self.take():
            raise LeaseLostError(
                f"polling {self.store.name} stopped: another daemon took over the store"
            )


async def scan(ctx: Context, store: StoreRuntime, lease: PollLease, *, full: bool) -> int:
    until = ctx.clock()
    cursor = None if full else await ctx.repo.get_cursor(store.store_id)
    since = cursor.updated_at - CURSOR_OVERLAP if cursor else None

    seen: set[str] = set()
    read_until = until + FUTURE_READ if since is None else until
    async for item in store.connector.catalogue_changes(since, read_until):
        await lease.keep()
        await record_item(ctx, store, item, until)
        seen.add(item.product_id)

    await ctx.repo.set_cursor(store.store_id, Cursor(until), owner=ctx.owner)
    if full:
        await notice_deletions(ctx, store, seen)

    logger.log(
        logging.INFO if seen else logging.DEBUG,
        "read %d changed products from %s",
        len(seen),
        store.name,
        extra={"action": "poll", "store": store.name},
    )
    return len(seen)


async def notice_deletions(ctx: Context, store: StoreRuntime, seen: set[str]) -> None:
    """Mark links whose product a full scan did not see, once the store confirms it is gone."""
    known = set(await ctx.repo.live_product_ids(store.store_id))
    for product_id in known - seen:
        if await store.connector.get_product(product_id) is None:
            await delete_product(ctx, store, product_id)


async def delete_product(ctx: Context, store: StoreRuntime, product_id: str) -> None:
    """Stop the work of a product the store deleted, and its PergAI product when configured."""
    links = await ctx.repo.links_of_product(store.store_id, product_id)
    await ctx.repo.mark_deleted(store.store_id, product_id)
    logger.info(
        "product %s deleted in the store",
        product_id,
        extra={"action": "deleted", "store": store.name, "product": product_id},
    )
    if not ctx.settings.pergai.delete_products_on_store_delete:
        return

    for link in links:
        if link.pergai_product_id:
            await ctx.pergai.delete_product(link.pergai_product_id)


async def apply_event(ctx: Context, store: StoreRuntime, event: StoreEvent) -> str:
    """Apply one webhook event; return a short outcome for the inbox row."""
    if event.kind is EventKind.PRODUCT_DELETED and event.product_id:
        await delete_product(ctx, store, event.product_id)
        return "deleted"

    if event.kind is EventKind.PRODUCT_CHANGED and event.product_id:
        item = event.item or await store.connector.get_product(event.product_id)
        if item is None:
            await delete_product(ctx, store, event.product_id)
            return "deleted"
        await record_item(ctx, store, item)
        return "recorded"

    if event.kind is EventKind.STORE_UNINSTALLED:
        logger.error(
            "store %s uninstalled the app; its webhooks and credentials no longer work",
            store.name,
            extra={"action": "store_uninstalled", "store": store.name},
        )
        return "uninstalled"

    # pergai-sync keeps no customer data, so a privacy request has nothing to erase or send.
    return "nothing to do"


async def process_inbox(ctx: Context, limit: int = 100) -> int:
    """Apply unprocessed webhook deliveries; return how many were processed."""
    deliveries = await ctx.repo.claim_deliveries(
        ctx.owner, limit=limit, lease_seconds=ctx.lease_seconds
    )
    outcomes: list[tuple[int, str]] = []
    for delivery in deliveries:
        assert delivery.id is not None
        store = ctx.store_by_id(delivery.store_id)
        outcomes.append((delivery.id, await process_delivery(ctx, store, delivery.body)))

    # One commit for the batch: a crash before it only means these are applied again.
    lost = await ctx.repo.mark_deliveries_processed(outcomes, owner=ctx.owner)
    if lost:
        logger.info(
            "%d webhook deliveries were taken over by another daemon before they were marked",
            len(lost),
            extra={"action": "lease_lost"},
        )
    return len(deliveries)


async def process_delivery(ctx: Context, store: StoreRuntime, body: bytes) -> str:
    headers, raw = decode_raw(body.decode("utf-8"))
    try:
        delivery = store.connector.parse_webhook(headers, raw)
        outcomes = [await apply_event(ctx, store, event) for event in delivery.events]
    except PergaiSyncError as error:
        logger.warning(
            "webhook delivery could not be applied: %s",
            error,
            extra={"action": "webhook_failed", "store": store.name},
        )
        return f"failed: {error}; the next poll reads the product"
    return ", ".join(outcomes) or "no events"
