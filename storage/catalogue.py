"""Queries that record what the store's catalogue says: upsert and deletion of product links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from connectors.base import CatalogueItem, StoreImage
from storage.models import Event, ProductLink, Render, RenderStatus, Stage
from storage.querybase import QueryBase, rowcount

# Stages that a newer store update sends back to `discovered` for another look.
REEVALUATED_STAGES = frozenset({Stage.SKIPPED, Stage.FAILED, Stage.DELETED})
# Render statuses that are still in progress; a deletion takes their leases away.
OPEN_RENDER_STATUSES = (RenderStatus.REQUESTED, RenderStatus.RUNNING, RenderStatus.COMPLETED)
# Render statuses a new source image ends: their output shows the old image.
UNWRITTEN_RENDER_STATUSES = (*OPEN_RENDER_STATUSES, RenderStatus.REVIEW)
SUPERSEDED_REASON = "the store product got a new source image before this output was written"


class UpsertOutcome(StrEnum):
    """The outcome of upserting a catalogue item."""

    CREATED = "created"  # a new product link
    UPDATED = "updated"  # the item was newer (or as new with other content) and was stored
    STALE = "stale"  # the stored state is newer; nothing was written
    UNCHANGED = "unchanged"  # same updated_at and same content; nothing was written


@dataclass(frozen=True)
class UpsertResult:
    """The outcome of ``upsert_catalogue_item`` and the link's stage afterwards."""

    outcome: UpsertOutcome
    link_id: int
    stage: Stage
    # True when the stored source fingerprint changed (a created link with a
    # source image counts as changed).
    fingerprint_changed: bool


def link_fields(item: CatalogueItem, variant_id: str) -> dict[str, Any]:
    """Return the product link columns that a catalogue item sets.

    The source image columns are left out when only images this service wrote
    remain: a replace write detached the source, and that is no new source image.
    """
    fields: dict[str, Any] = {
        "title": item.title,
        "product_type": item.product_type,
        "category_path": item.category_path,
        "tags": list(item.tags),
        "store_status": item.status,
        "store_updated_at": item.updated_at,
    }
    image = source_image(item, variant_id)
    if image is None and shows_only_ours(item, variant_id):
        return fields

    fields.update(
        source_image_id=image.id if image else None,
        source_image_url=image.url if image else None,
        source_fingerprint=image.fingerprint if image else None,
    )
    return fields


def shows_only_ours(item: CatalogueItem, variant_id: str) -> bool:
    """Return whether the product (or the variant) shows images and all of them are ours."""
    if not variant_id:
        return bool(item.images) and all(image.ours for image in item.images)

    variant = next((v for v in item.variants if v.id == variant_id), None)
    return variant is not None and variant.image is not None and variant.image.ours


def source_image(item: CatalogueItem, variant_id: str) -> StoreImage | None:
    """Return the source image of the product, or of one variant when ``variant_id`` is set.

    A variant's source is its own image when this service did not write it;
    a variant without one has no source image. Raises ``ValueError`` for a
    variant id that the item does not list.
    """
    if not variant_id:
        return item.source_image

    variant = next((v for v in item.variants if v.id == variant_id), None)
    if variant is None:
        raise ValueError(f"product {item.product_id} has no variant {variant_id!r}")
    if variant.image is None or variant.image.ours:
        return None
    return variant.image


class CatalogueQueries(QueryBase):
    async def upsert_catalogue_item(
        self, store_id: int, item: CatalogueItem, variant_id: str = ""
    ) -> UpsertResult:
        """Record a catalogue item (from a scan or a webhook) on its product link.

        The newer ``updated_at`` wins: an older item is ``STALE`` and an equal
        one with the same content is ``UNCHANGED``; neither writes anything.
        An equal ``updated_at`` with other content is stored, because stores
        with one-second timestamps can change a product twice in a second.

        Stage rules: a new link is ``discovered`` and due now. A stored update
        whose source fingerprint changed starts a new cycle (``discovered``,
        attempts reset, due now, PergAI product id cleared). A stored update
        of a skipped, failed or deleted link sends it back to ``discovered``
        for another look. Any
        other update keeps the stage. A reset takes the lease away, so a step
        still running on the old state cannot record its result. An item
        without a source image is recorded like any other.
        """
        fields = link_fields(item, variant_id)
        async with self.db.write() as session:
            link = await self._lock_link(session, store_id, item.product_id, variant_id)
            if link is None:
                created = await self._insert_link(session, store_id, item, variant_id, fields)
                if created is not None:
                    return created
                link = await self._lock_link(session, store_id, item.product_id, variant_id)
                assert link is not None, "a conflicting insert must have left the row"
            return await self._update_link(session, link, fields)

    async def _lock_link(
        self, session: AsyncSession, store_id: int, product_id: str, variant_id: str
    ) -> ProductLink | None:
        return await session.scalar(
            select(ProductLink)
            .where(
                col(ProductLink.store_id) == store_id,
                col(ProductLink.product_id) == product_id,
                col(ProductLink.variant_id) == variant_id,
            )
            # FOR NO KEY UPDATE: the upsert changes no key, and a plain FOR UPDATE would
            # also block event-log inserts that reference the link, which deadlocks with
            # a render step that holds its render and logs an event (PostgreSQL).
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )

    async def _insert_link(
        self,
        session: AsyncSession,
        store_id: int,
        item: CatalogueItem,
        variant_id: str,
        fields: dict[str, Any],
    ) -> UpsertResult | None:
        now = self.now()
        statement = (
            self.insert_if_absent(ProductLink, ["store_id", "product_id", "variant_id"])
            .values(
                store_id=store_id,
                product_id=item.product_id,
                variant_id=variant_id,
                stage=Stage.DISCOVERED,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                **fields,
            )
            .returning(col(ProductLink.id))
        )
        link_id = (await session.execute(statement)).scalar_one_or_none()
        if link_id is None:
            return None

        session.add(
            Event(
                at=now,
                store_id=store_id,
                link_id=link_id,
                product_id=item.product_id,
                action="discovered",
                message=f"new product {item.title!r}",
            )
        )
        changed = fields.get("source_fingerprint") is not None
        return UpsertResult(UpsertOutcome.CREATED, link_id, Stage.DISCOVERED, changed)

    async def _update_link(
        self, session: AsyncSession, link: ProductLink, fields: dict[str, Any]
    ) -> UpsertResult:
        assert link.id is not None
        stored_at: datetime = link.store_updated_at
        incoming_at: datetime = fields["store_updated_at"]
        if incoming_at < stored_at:
            return UpsertResult(UpsertOutcome.STALE, link.id, link.stage, False)
        if incoming_at == stored_at and all(getattr(link, k) == v for k, v in fields.items()):
            return UpsertResult(UpsertOutcome.UNCHANGED, link.id, link.stage, False)

        now = self.now()
        fingerprint = fields.get("source_fingerprint", link.source_fingerprint)
        changed = link.source_fingerprint != fingerprint
        values = dict(fields, updated_at=now)
        stage = link.stage
        if changed or link.stage in REEVALUATED_STAGES:
            stage = Stage.DISCOVERED
            values.update(_reset_values(now))
            session.add(self._reset_event(link, now, changed))
        if changed:
            # PergAI renders from the image its product was created with, so a new
            # source image needs a new PergAI product.
            values["pergai_product_id"] = None
            await self._supersede_renders(session, link.id, fingerprint, now)

        await session.execute(
            update(ProductLink).where(col(ProductLink.id) == link.id).values(**values)
        )
        return UpsertResult(UpsertOutcome.UPDATED, link.id, stage, changed)

    async def _supersede_renders(
        self, session: AsyncSession, link_id: int, fingerprint: str | None, now: datetime
    ) -> None:
        """End the unwritten renders of the link's old source images, in the reset's transaction.

        Left open, a render of the old image could be started or written with the
        new PergAI product after the link moved on, doubling the new image's outputs.
        Taking the leases away stops a step still running on one from recording it.
        """
        await session.execute(
            update(Render)
            .where(
                col(Render.link_id) == link_id,
                col(Render.source_fingerprint).is_distinct_from(fingerprint),
                col(Render.status).in_(UNWRITTEN_RENDER_STATUSES),
            )
            .values(
                status=RenderStatus.SUPERSEDED,
                reason=SUPERSEDED_REASON,
                next_attempt_at=None,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )

    def _reset_event(self, link: ProductLink, now: datetime, changed: bool) -> Event:
        why = "new source image" if changed else f"product changed while {link.stage.value}"
        return Event(
            at=now,
            store_id=link.store_id,
            link_id=link.id,
            product_id=link.product_id,
            action="rediscovered",
            message=f"{why}; evaluating it again",
        )

    async def mark_deleted(
        self, store_id: int, product_id: str, *, owner: str | None = None
    ) -> int:
        """Mark every link of a store product (all its variants) ``deleted``; return how many.

        Leases on the links and their open renders are taken away, so steps
        still running for the product cannot record a result.
        """
        now = self.now()
        async with self.db.write() as session:
            link_ids = list(
                await session.scalars(
                    select(col(ProductLink.id)).where(
                        col(ProductLink.store_id) == store_id,
                        col(ProductLink.product_id) == product_id,
                        col(ProductLink.stage) != Stage.DELETED,
                    )
                )
            )
            if not link_ids:
                return 0

            result = await session.execute(
                update(ProductLink)
                .where(col(ProductLink.id).in_(link_ids))
                .values(
                    stage=Stage.DELETED,
                    reason="the product was deleted from the store",
                    next_attempt_at=None,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
            await session.execute(
                update(Render)
                .where(
                    col(Render.link_id).in_(link_ids),
                    col(Render.status).in_(OPEN_RENDER_STATUSES),
                )
                .values(lease_owner=None, lease_expires_at=None, next_attempt_at=None)
            )
            session.add(
                Event(
                    at=now,
                    store_id=store_id,
                    product_id=product_id,
                    action="deleted",
                    message="product deleted from the store",
                    owner=owner,
                )
            )
        return rowcount(result)

    async def get_link(self, link_id: int) -> ProductLink | None:
        """Return one product link by its id."""
        async with self.db.read() as session:
            return await session.get(ProductLink, link_id)

    async def find_link(
        self, store_id: int, product_id: str, variant_id: str = ""
    ) -> ProductLink | None:
        """Return the link of a store product (or one variant of it), or None."""
        async with self.db.read() as session:
            return await session.scalar(
                select(ProductLink).where(
                    col(ProductLink.store_id) == store_id,
                    col(ProductLink.product_id) == product_id,
                    col(ProductLink.variant_id) == variant_id,
                )
            )

    async def recorded_pergai_products(self, pergai_product_ids: list[str]) -> set[str]:
        """Return those of ``pergai_product_ids`` that some product link records."""
        if not pergai_product_ids:
            return set()
        async with self.db.read() as session:
            rows = await session.scalars(
                select(col(ProductLink.pergai_product_id)).where(
                    col(ProductLink.pergai_product_id).in_(pergai_product_ids)
                )
            )
            return {row for row in rows if row is not None}

    async def live_product_ids(self, store_id: int) -> list[str]:
        """Return the store product ids that have a link not marked ``deleted``, sorted."""
        async with self.db.read() as session:
            rows = await session.scalars(
                select(col(ProductLink.product_id))
                .where(
                    col(ProductLink.store_id) == store_id,
                    col(ProductLink.stage) != Stage.DELETED,
                )
                .distinct()
                .order_by(col(ProductLink.product_id))
            )
            return list(rows)

    async def links_of_product(self, store_id: int, product_id: str) -> list[ProductLink]:
        """Return the links of a store product: the product's own first, then its variants."""
        async with self.db.read() as session:
            rows = await session.scalars(
                select(ProductLink)
                .where(
                    col(ProductLink.store_id) == store_id,
                    col(ProductLink.product_id) == product_id,
                )
                .order_by(col(ProductLink.variant_id))
            )
            return list(rows)


def _reset_values(now: datetime) -> dict[str, Any]:
    return {
        "stage": Stage.DISCOVERED,
        "attempts": 0,
        "next_attempt_at": now,
        "reason": None,
        "last_error": None,
        "lease_owner": None,
        "lease_expires_at": None,
    }
