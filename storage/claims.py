"""Claiming due work with leases, so each row is worked on by one daemon at a time.

A claim selects due rows whose lease is free or expired and writes the
claimer's lease onto them in the same transaction. On PostgreSQL the select
is ``FOR UPDATE SKIP LOCKED``, so concurrent claimers pass over each other's
rows instead of waiting. On SQLite the write transaction starts with ``BEGIN
IMMEDIATE``, so claims run one after another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlmodel import col

from storage.models import InboxDelivery, ProductLink, Render, RenderStatus, Stage, Store
from storage.querybase import QueryBase, rowcount


@dataclass(frozen=True)
class ClaimedRender:
    """A claimed render and its product link (the link is not leased by the claim)."""

    render: Render
    link: ProductLink


def lease_free(owner_column: Any, expires_column: Any, now: datetime) -> ColumnElement[bool]:
    """Return the condition "nobody holds the lease, or it expired by ``now``"."""
    return or_(col(owner_column).is_(None), col(expires_column) <= now)


class ClaimQueries(QueryBase):
    async def claim_links(
        self,
        owner: str,
        stages: Iterable[Stage],
        *,
        limit: int,
        lease_seconds: float,
        store_id: int | None = None,
    ) -> list[ProductLink]:
        """Claim up to ``limit`` due product links in ``stages`` for ``owner``.

        Due means ``next_attempt_at <= now``; a link whose lease is held and
        not expired is passed over. Oldest due first. The returned rows carry
        the new lease; record the outcome with ``record_link_step``.
        """
        now = self.now()
        conditions = [
            col(ProductLink.stage).in_(list(stages)),
            col(ProductLink.next_attempt_at) <= now,
            lease_free(ProductLink.lease_owner, ProductLink.lease_expires_at, now),
        ]
        if store_id is not None:
            conditions.append(col(ProductLink.store_id) == store_id)

        candidates = (
            select(col(ProductLink.id))
            .where(*conditions)
            .order_by(col(ProductLink.next_attempt_at), col(ProductLink.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.db.write() as session:
            ids = list(await session.scalars(candidates))
            if not ids:
                return []
            await session.execute(
                update(ProductLink)
                .where(col(ProductLink.id).in_(ids))
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
            rows = await session.scalars(
                select(ProductLink)
                .where(col(ProductLink.id).in_(ids))
                .order_by(col(ProductLink.next_attempt_at), col(ProductLink.id))
                .execution_options(populate_existing=True)
            )
            return list(rows)

    async def stores_with_due_renders(self, status: RenderStatus) -> list[int]:
        """Return the ids of stores that have a due, unleased render in ``status``."""
        now = self.now()
        query = (
            select(col(ProductLink.store_id))
            .join(Render, col(Render.link_id) == col(ProductLink.id))
            .where(
                col(Render.status) == status,
                col(Render.next_attempt_at) <= now,
                lease_free(Render.lease_owner, Render.lease_expires_at, now),
            )
            .distinct()
            .order_by(col(ProductLink.store_id))
        )
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def claim_renders(
        self,
        owner: str,
        statuses: Iterable[RenderStatus],
        *,
        limit: int,
        lease_seconds: float,
        store_id: int | None = None,
    ) -> list[ClaimedRender]:
        """Claim up to ``limit`` due renders in ``statuses`` for ``owner``, with their links.

        Same rules as ``claim_links``. Only the render rows are locked and
        leased; the link comes along for reading.
        """
        now = self.now()
        conditions = [
            col(Render.status).in_(list(statuses)),
            col(Render.next_attempt_at) <= now,
            lease_free(Render.lease_owner, Render.lease_expires_at, now),
        ]
        candidates = select(col(Render.id))
        if store_id is not None:
            candidates = candidates.join(ProductLink, col(ProductLink.id) == col(Render.link_id))
            conditions.append(col(ProductLink.store_id) == store_id)
        candidates = (
            candidates.where(*conditions)
            .order_by(col(Render.next_attempt_at), col(Render.id))
            .limit(limit)
            .with_for_update(skip_locked=True, of=Render)
        )

        async with self.db.write() as session:
            ids = list(await session.scalars(candidates))
            if not ids:
                return []
            await session.execute(
                update(Render)
                .where(col(Render.id).in_(ids))
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
            rows = await session.execute(
                select(Render, ProductLink)
                .join(ProductLink, col(ProductLink.id) == col(Render.link_id))
                .where(col(Render.id).in_(ids))
                .order_by(col(Render.next_attempt_at), col(Render.id))
                .execution_options(populate_existing=True)
            )
            return [ClaimedRender(render, link) for render, link in rows]

    async def renew_leases(self, owner: str, lease_seconds: float) -> int:
        """Push back the expiry of every lease ``owner`` holds; return how many rows.

        Covers product links, renders, inbox deliveries and store polling
        leases. Call it well within ``lease_seconds`` while work is running.
        """
        expires = self.now() + timedelta(seconds=lease_seconds)
        renewed = 0
        async with self.db.write() as session:
            for model in (ProductLink, Render, InboxDelivery, Store):
                result = await session.execute(
                    update(model)
                    .where(col(model.lease_owner) == owner)
                    .values(lease_expires_at=expires)
                )
                renewed += rowcount(result)
        return renewed

    async def release_leases(self, owner: str) -> int:
        """Give back every lease ``owner`` holds (daemon shutdown); return how many rows."""
        released = 0
        async with self.db.write() as session:
            for model in (ProductLink, Render, InboxDelivery, Store):
                result = await session.execute(
                    update(model)
                    .where(col(model.lease_owner) == owner)
                    .values(lease_owner=None, lease_expires_at=None)
                )
                released += rowcount(result)
        return released

    async def release_link(self, link_id: int, owner: str) -> bool:
        """Give back the lease on one link; return False when ``owner`` did not hold it."""
        async with self.db.write() as session:
            result = await session.execute(
                update(ProductLink)
                .where(col(ProductLink.id) == link_id, col(ProductLink.lease_owner) == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )
        return rowcount(result) == 1

    async def release_render(self, render_id: int, owner: str) -> bool:
        """Give back the lease on one render; return False when ``owner`` did not hold it."""
        async with self.db.write() as session:
            result = await session.execute(
                update(Render)
                .where(col(Render.id) == render_id, col(Render.lease_owner) == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )
        return rowcount(result) == 1

    async def lease_link(self, link_id: int, owner: str, lease_seconds: float) -> bool:
        """Take the lease on one link whatever its stage; False when another owner holds it.

        Writing images back holds the link's lease, so two renders of one
        product are never written at once: both would read the listing and
        the second write would leave out the first one's image.
        """
        now = self.now()
        async with self.db.write() as session:
            result = await session.execute(
                update(ProductLink)
                .where(
                    col(ProductLink.id) == link_id,
                    or_(
                        lease_free(ProductLink.lease_owner, ProductLink.lease_expires_at, now),
                        col(ProductLink.lease_owner) == owner,
                    ),
                )
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
        return rowcount(result) == 1
