"""The webhook inbox: deliveries recorded once, claimed, processed and pruned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.claims import lease_free
from storage.errors import LeaseLostError
from storage.models import InboxDelivery
from storage.querybase import QueryBase, rowcount


@dataclass(frozen=True)
class RecordedDelivery:
    """The inbox row of a delivery, and whether this call created it."""

    id: int
    new: bool


@dataclass(frozen=True)
class NewDelivery:
    """A verified webhook delivery to record; a ``str`` body is stored as UTF-8."""

    store_id: int
    platform: str
    delivery_key: str
    topic: str
    body: bytes | str


class InboxQueries(QueryBase):
    async def record_delivery(
        self,
        store_id: int,
        platform: str,
        delivery_key: str,
        topic: str,
        body: bytes | str,
        *,
        received_at: datetime | None = None,
    ) -> RecordedDelivery:
        """Store a verified webhook delivery unless its key was already seen for the store.

        Returns ``new=False`` for a repeated delivery and leaves the first
        one as it is. A ``str`` body is stored as UTF-8.
        """
        delivery = NewDelivery(store_id, platform, delivery_key, topic, body)
        return (await self.record_deliveries([delivery], received_at=received_at))[0]

    async def record_deliveries(
        self, deliveries: Sequence[NewDelivery], *, received_at: datetime | None = None
    ) -> list[RecordedDelivery]:
        """Store several deliveries in one transaction, each as ``record_delivery`` would.

        A key repeated within ``deliveries`` is new only the first time.
        """
        received = received_at or self.now()
        async with self.db.write() as session:
            return [await self._record(session, d, received) for d in deliveries]

    async def _record(
        self, session: AsyncSession, delivery: NewDelivery, received_at: datetime
    ) -> RecordedDelivery:
        body = delivery.body
        statement = (
            self.insert_if_absent(InboxDelivery, ["store_id", "delivery_key"])
            .values(
                store_id=delivery.store_id,
                platform=delivery.platform,
                delivery_key=delivery.delivery_key,
                topic=delivery.topic,
                received_at=received_at,
                body=body.encode() if isinstance(body, str) else body,
            )
            .returning(col(InboxDelivery.id))
        )
        new_id = (await session.execute(statement)).scalar_one_or_none()
        if new_id is not None:
            return RecordedDelivery(new_id, True)

        old_id = await session.scalar(
            select(col(InboxDelivery.id)).where(
                col(InboxDelivery.store_id) == delivery.store_id,
                col(InboxDelivery.delivery_key) == delivery.delivery_key,
            )
        )
        assert old_id is not None, "a conflicting insert must have left the row"
        return RecordedDelivery(old_id, False)

    async def unprocessed_deliveries(
        self, limit: int = 100, store_id: int | None = None
    ) -> list[InboxDelivery]:
        """Return deliveries not yet processed, oldest first, without claiming them."""
        query = select(InboxDelivery).where(col(InboxDelivery.processed_at).is_(None))
        if store_id is not None:
            query = query.where(col(InboxDelivery.store_id) == store_id)
        query = query.order_by(col(InboxDelivery.received_at), col(InboxDelivery.id)).limit(limit)
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def claim_deliveries(
        self, owner: str, *, limit: int, lease_seconds: float, store_id: int | None = None
    ) -> list[InboxDelivery]:
        """Claim up to ``limit`` unprocessed deliveries for ``owner``, oldest first.

        Same lease rules as ``claim_links``; finish each with ``mark_delivery_processed``.
        """
        now = self.now()
        conditions = [
            col(InboxDelivery.processed_at).is_(None),
            lease_free(InboxDelivery.lease_owner, InboxDelivery.lease_expires_at, now),
        ]
        if store_id is not None:
            conditions.append(col(InboxDelivery.store_id) == store_id)
        order = (col(InboxDelivery.received_at), col(InboxDelivery.id))
        candidates = (
            select(col(InboxDelivery.id))
            .where(*conditions)
            .order_by(*order)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

        async with self.db.write() as session:
            ids = list(await session.scalars(candidates))
            if not ids:
                return []
            await session.execute(
                update(InboxDelivery)
                .where(col(InboxDelivery.id).in_(ids))
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
            rows = await session.scalars(
                select(InboxDelivery)
                .where(col(InboxDelivery.id).in_(ids))
                .order_by(*order)
                .execution_options(populate_existing=True)
            )
            return list(rows)

    async def mark_delivery_processed(
        self, delivery_id: int, outcome: str, *, owner: str | None = None
    ) -> None:
        """Record that a delivery was processed, with a short outcome ("updated 1 product").

        With ``owner``, raises ``LeaseLostError`` unless ``owner`` holds the
        delivery's lease; a delivery processed twice is harmless, because
        every step it triggers is idempotent.
        """
        lost = await self.mark_deliveries_processed([(delivery_id, outcome)], owner=owner)
        if lost:
            raise LeaseLostError(
                f"webhook delivery {delivery_id} not marked processed: "
                f"daemon {owner} no longer holds its lease"
            )

    async def mark_deliveries_processed(
        self, outcomes: Sequence[tuple[int, str]], *, owner: str | None = None
    ) -> list[int]:
        """Mark several deliveries processed in one transaction; return the ids not marked.

        With ``owner``, a delivery whose lease ``owner`` no longer holds is left
        as it is and its id returned: another daemon took it over.
        """
        now = self.now()
        lost: list[int] = []
        async with self.db.write() as session:
            for delivery_id, outcome in outcomes:
                statement = update(InboxDelivery).where(col(InboxDelivery.id) == delivery_id)
                if owner is not None:
                    statement = statement.where(col(InboxDelivery.lease_owner) == owner)
                result = await session.execute(
                    statement.values(
                        processed_at=now, outcome=outcome, lease_owner=None, lease_expires_at=None
                    )
                )
                if rowcount(result) != 1 and owner is not None:
                    lost.append(delivery_id)
        return lost

    async def prune_deliveries(self, older_than: timedelta) -> int:
        """Delete processed deliveries processed more than ``older_than`` ago; return how many."""
        cutoff = self.now() - older_than
        async with self.db.write() as session:
            result = await session.execute(
                delete(InboxDelivery).where(col(InboxDelivery.processed_at) < cutoff)
            )
        return rowcount(result)
