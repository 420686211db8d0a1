"""Read-side queries: summaries for `status`, lookups for `revert`, and the event log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlmodel import col

from storage.models import DailyUsage, Event, ProductLink, Render, RenderStatus, Stage, Store
from storage.querybase import QueryBase, rowcount


@dataclass(frozen=True)
class Failure:
    """A failed product link or render, as `status` lists it."""

    store: str
    link_id: int
    product_id: str
    variant_id: str
    title: str
    # The output key for a failed render; None when the link itself failed.
    output_key: str | None
    reason: str | None
    last_error: str | None
    attempts: int
    at: datetime


@dataclass(frozen=True)
class RevertTarget:
    """A product link and the renders of it that were written to the store."""

    link: ProductLink
    renders: list[Render]


class ReportQueries(QueryBase):
    async def ping(self) -> None:
        """Run a trivial query; raises ``StorageError`` when the database is unreachable."""
        async with self.db.read() as session:
            await session.execute(text("SELECT 1"))

    async def stage_counts(self) -> dict[str, dict[Stage, int]]:
        """Return, per store name, how many product links are in each stage."""
        query = (
            select(col(Store.name), col(ProductLink.stage), func.count())
            .join(Store, col(Store.id) == col(ProductLink.store_id))
            .group_by(col(Store.name), col(ProductLink.stage))
        )
        counts: dict[str, dict[Stage, int]] = defaultdict(dict)
        async with self.db.read() as session:
            for store, stage, count in await session.execute(query):
                counts[store][stage] = count
        return dict(counts)

    async def skip_reasons(self) -> list[tuple[str, str, int]]:
        """Return (store name, reason, product links) for skipped links, most common first."""
        query = (
            select(col(Store.name), col(ProductLink.reason), func.count())
            .join(Store, col(Store.id) == col(ProductLink.store_id))
            .where(col(ProductLink.stage) == Stage.SKIPPED)
            .group_by(col(Store.name), col(ProductLink.reason))
            .order_by(func.count().desc(), col(Store.name))
        )
        async with self.db.read() as session:
            rows = (await session.execute(query)).all()
            return [(store, reason or "no reason recorded", count) for store, reason, count in rows]

    async def render_counts(self) -> dict[str, dict[RenderStatus, int]]:
        """Return, per store name, how many renders are in each status."""
        query = (
            select(col(Store.name), col(Render.status), func.count())
            .join(ProductLink, col(ProductLink.id) == col(Render.link_id))
            .join(Store, col(Store.id) == col(ProductLink.store_id))
            .group_by(col(Store.name), col(Render.status))
        )
        counts: dict[str, dict[RenderStatus, int]] = defaultdict(dict)
        async with self.db.read() as session:
            for store, status, count in await session.execute(query):
                counts[store][status] = count
        return dict(counts)

    async def recent_failures(self, limit: int = 20, store_id: int | None = None) -> list[Failure]:
        """Return the latest failed links and renders with their reasons, newest first."""
        links = (
            select(ProductLink, col(Store.name))
            .join(Store, col(Store.id) == col(ProductLink.store_id))
            .where(col(ProductLink.stage) == Stage.FAILED)
            .order_by(col(ProductLink.updated_at).desc())
            .limit(limit)
        )
        renders = (
            select(Render, ProductLink, col(Store.name))
            .join(ProductLink, col(ProductLink.id) == col(Render.link_id))
            .join(Store, col(Store.id) == col(ProductLink.store_id))
            .where(col(Render.status) == RenderStatus.FAILED)
            .order_by(col(Render.updated_at).desc())
            .limit(limit)
        )
        if store_id is not None:
            links = links.where(col(ProductLink.store_id) == store_id)
            renders = renders.where(col(ProductLink.store_id) == store_id)

        async with self.db.read() as session:
            failures = [
                _link_failure(link, store) for link, store in (await session.execute(links))
            ]
            failures += [
                _render_failure(render, link, store)
                for render, link, store in (await session.execute(renders))
            ]
        failures.sort(key=lambda failure: failure.at, reverse=True)
        return failures[:limit]

    async def usage_for_day(self, day: date | None = None) -> dict[str, int]:
        """Return, per store name, the PergAI jobs counted on ``day`` (default today, UTC)."""
        day = day or self.now().date()
        query = (
            select(col(Store.name), col(DailyUsage.used))
            .join(Store, col(Store.id) == col(DailyUsage.store_id))
            .where(col(DailyUsage.day) == day)
        )
        async with self.db.read() as session:
            rows = (await session.execute(query)).all()
        return dict(rows)

    async def revert_targets(
        self, store_id: int, product_id: str | None = None
    ) -> list[RevertTarget]:
        """Return the store's links (or one product's) that have written renders, with them."""
        query = (
            select(Render, ProductLink)
            .join(ProductLink, col(ProductLink.id) == col(Render.link_id))
            .where(
                col(ProductLink.store_id) == store_id,
                col(Render.status) == RenderStatus.WRITTEN,
            )
            .order_by(col(ProductLink.id), col(Render.id))
        )
        if product_id is not None:
            query = query.where(col(ProductLink.product_id) == product_id)

        targets: dict[int, RevertTarget] = {}
        async with self.db.read() as session:
            for render, link in await session.execute(query):
                assert link.id is not None
                targets.setdefault(link.id, RevertTarget(link, [])).renders.append(render)
        return list(targets.values())

    async def mark_render_reverted(self, render_id: int, message: str = "") -> None:
        """Mark a written render ``reverted`` after `revert` removed it from the listing."""
        now = self.now()
        async with self.db.write() as session:
            await session.execute(
                update(Render)
                .where(col(Render.id) == render_id)
                .values(
                    status=RenderStatus.REVERTED,
                    next_attempt_at=None,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
            render = await session.get(Render, render_id)
            link = await session.get(ProductLink, render.link_id) if render else None
            if render is not None and link is not None:
                session.add(
                    Event(
                        at=now,
                        store_id=link.store_id,
                        link_id=link.id,
                        product_id=link.product_id,
                        action="reverted",
                        message=message or f"{render.output_key} removed from the listing",
                    )
                )

    async def append_event(
        self,
        action: str,
        message: str,
        *,
        store_id: int | None = None,
        link_id: int | None = None,
        product_id: str | None = None,
        owner: str | None = None,
    ) -> None:
        """Add a line to the event log (steps add their own through ``record_*_step``)."""
        async with self.db.write() as session:
            session.add(
                Event(
                    at=self.now(),
                    store_id=store_id,
                    link_id=link_id,
                    product_id=product_id,
                    action=action,
                    message=message,
                    owner=owner,
                )
            )

    async def recent_events(self, limit: int = 50, store_id: int | None = None) -> list[Event]:
        """Return the latest event-log lines, newest first."""
        query = select(Event).order_by(col(Event.at).desc(), col(Event.id).desc()).limit(limit)
        if store_id is not None:
            query = query.where(col(Event.store_id) == store_id)
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def prune_events(self, older_than: timedelta) -> int:
        """Delete event-log lines older than ``older_than``; return how many."""
        cutoff = self.now() - older_than
        async with self.db.write() as session:
            result = await session.execute(delete(Event).where(col(Event.at) < cutoff))
        return rowcount(result)


def _link_failure(link: ProductLink, store: str) -> Failure:
    assert link.id is not None
    return Failure(
        store=store,
        link_id=link.id,
        product_id=link.product_id,
        variant_id=link.variant_id,
        title=link.title,
        output_key=None,
        reason=link.reason,
        last_error=link.last_error,
        attempts=link.attempts,
        at=link.updated_at,
    )


def _render_failure(render: Render, link: ProductLink, store: str) -> Failure:
    assert link.id is not None
    return Failure(
        store=store,
        link_id=link.id,
        product_id=link.product_id,
        variant_id=link.variant_id,
        title=link.title,
        output_key=render.output_key,
        reason=render.reason,
        last_error=render.last_error,
        attempts=render.attempts,
        at=render.updated_at,
    )
