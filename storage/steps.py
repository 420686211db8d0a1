"""Recording the outcome of a pipeline step, and creating the render rows a link needs.

A step's outcome (new stage or status, the ids it produced, attempts, next
due time, lease given back) and its event-log line are written in one
transaction, and only while the caller still holds the row's lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.errors import LeaseLostError, PergaiProductTakenError
from storage.models import Event, ProductLink, Render, RenderStatus, Stage
from storage.querybase import QueryBase, rowcount
from sync.errors import StorageError

M = TypeVar("M", ProductLink, Render)


class Unset(Enum):
    """The type of ``UNSET``: "leave this column as it is" in a step's keyword arguments."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET


def step_values(
    now: datetime,
    release: bool,
    always: dict[str, Any],
    kept_unless_given: dict[str, Any],
) -> dict[str, Any]:
    """Return the columns a step writes: ``always`` as given, the others unless ``UNSET``."""
    values = dict(always, updated_at=now)
    values.update({key: value for key, value in kept_unless_given.items() if value is not UNSET})
    if release:
        values.update(lease_owner=None, lease_expires_at=None)
    return values


class StepQueries(QueryBase):
    async def record_link_step(
        self,
        link_id: int,
        owner: str,
        *,
        stage: Stage,
        action: str | None = None,
        message: str = "",
        next_attempt_at: datetime | None = None,
        reason: str | None = None,
        pergai_product_id: str | None | Unset = UNSET,
        last_error: str | None | Unset = UNSET,
        attempts: int | Unset = UNSET,
        release: bool = True,
    ) -> ProductLink:
        """Write a step's outcome on a link and its event-log line; return the updated link.

        ``next_attempt_at`` is when the engine should pick the link up again
        (None: nothing is due) and ``reason`` replaces the stored reason (None
        clears it), because both belong to the new stage. Arguments left
        ``UNSET`` keep the stored value. ``action`` names the event-log line;
        None writes no line. ``release=False`` keeps the lease for a
        following step. Raises ``LeaseLostError``, and writes nothing, when
        ``owner`` no longer holds the link's lease.
        """
        now = self.now()
        values = step_values(
            now,
            release,
            {"stage": stage, "next_attempt_at": next_attempt_at, "reason": reason},
            {
                "pergai_product_id": pergai_product_id,
                "last_error": last_error,
                "attempts": attempts,
            },
        )
        try:
            async with self.db.write() as session:
                result = await session.execute(
                    update(ProductLink)
                    .where(col(ProductLink.id) == link_id, col(ProductLink.lease_owner) == owner)
                    .values(**values)
                )
                if rowcount(result) != 1:
                    raise LeaseLostError(
                        f"step {action or stage.value!r} on product link {link_id} not recorded: "
                        f"daemon {owner} no longer holds its lease"
                    )
                link = await _fresh(session, ProductLink, link_id)
                if action is not None:
                    session.add(_event(link, now, action, message, owner))
        except StorageError as error:
            if isinstance(pergai_product_id, str) and isinstance(error.__cause__, IntegrityError):
                raise PergaiProductTakenError(
                    f"PergAI product {pergai_product_id} is already recorded for another "
                    f"product link; product link {link_id} will look it up again"
                ) from error
            raise
        return link

    async def record_render_step(
        self,
        render_id: int,
        owner: str,
        *,
        status: RenderStatus,
        action: str | None = None,
        message: str = "",
        next_attempt_at: datetime | None = None,
        reason: str | None = None,
        generation_id: str | None | Unset = UNSET,
        result_url: str | None | Unset = UNSET,
        store_image_id: str | None | Unset = UNSET,
        detached_ids: Sequence[str] | Unset = UNSET,
        last_error: str | None | Unset = UNSET,
        attempts: int | Unset = UNSET,
        release: bool = True,
    ) -> Render:
        """Write a step's outcome on a render and its event-log line; return the updated render.

        Same rules as ``record_link_step``: ``next_attempt_at`` and ``reason``
        are always written, ``UNSET`` arguments keep the stored value (pass
        ``generation_id=None`` to forget a failed job), and ``action=None``
        writes no event-log line. Raises ``LeaseLostError``, and writes
        nothing, when ``owner`` no longer holds the render's lease.
        """
        now = self.now()
        detached = detached_ids if isinstance(detached_ids, Unset) else list(detached_ids)
        values = step_values(
            now,
            release,
            {"status": status, "next_attempt_at": next_attempt_at, "reason": reason},
            {
                "generation_id": generation_id,
                "result_url": result_url,
                "store_image_id": store_image_id,
                "detached_ids": detached,
                "last_error": last_error,
                "attempts": attempts,
            },
        )
        async with self.db.write() as session:
            result = await session.execute(
                update(Render)
                .where(col(Render.id) == render_id, col(Render.lease_owner) == owner)
                .values(**values)
            )
            if rowcount(result) != 1:
                raise LeaseLostError(
                    f"step {action or status.value!r} on render {render_id} not recorded: "
                    f"daemon {owner} no longer holds its lease"
                )
            render = await _fresh(session, Render, render_id)
            if action is not None:
                link = await _fresh(session, ProductLink, render.link_id)
                text = f"{render.output_key}: {message}" if message else render.output_key
                session.add(_event(link, now, action, text, owner))
        return render

    async def record_superseded_write(
        self, render_id: int, store_image_id: str, detached_ids: Sequence[str], message: str
    ) -> bool:
        """Record as written a superseded render whose image the store had already taken.

        Returns False, and writes nothing, unless the render is ``superseded``.
        """
        now = self.now()
        async with self.db.write() as session:
            result = await session.execute(
                update(Render)
                .where(col(Render.id) == render_id, col(Render.status) == RenderStatus.SUPERSEDED)
                .values(
                    status=RenderStatus.WRITTEN,
                    store_image_id=store_image_id,
                    detached_ids=list(detached_ids),
                    reason=None,
                    updated_at=now,
                )
            )
            if rowcount(result) != 1:
                return False
            render = await _fresh(session, Render, render_id)
            link = await _fresh(session, ProductLink, render.link_id)
            session.add(_event(link, now, "written", f"{render.output_key}: {message}", None))
        return True

    async def note_attempt(self, row_id: int, owner: str, *, render: bool = False) -> int:
        """Count one more attempt on a leased link (or render) before a remote call; return it.

        Counting before the call means a step that crashes the daemon still
        uses up its attempts. Raises ``LeaseLostError`` when ``owner`` no
        longer holds the lease.
        """
        model: type[ProductLink] | type[Render] = Render if render else ProductLink
        async with self.db.write() as session:
            result = await session.execute(
                update(model)
                .where(col(model.id) == row_id, col(model.lease_owner) == owner)
                .values(attempts=col(model.attempts) + 1, updated_at=self.now())
                .returning(col(model.attempts))
            )
            attempts = result.scalar_one_or_none()
        if attempts is None:
            kind = "render" if render else "product link"
            raise LeaseLostError(
                f"attempt on {kind} {row_id} not counted: daemon {owner} no longer holds its lease"
            )
        return int(attempts)

    async def settle_link(
        self,
        link_id: int,
        source_fingerprint: str | None,
        stage: Stage,
        reason: str | None = None,
    ) -> bool:
        """Move a rendering or writing link to ``stage`` once its renders have finished.

        Applies only while the link still has ``source_fingerprint`` and is
        ``rendering`` or ``writing``, so a link that a new source image sent
        back to ``discovered`` is left alone. Returns whether it moved.
        """
        now = self.now()
        same_source: ColumnElement[bool]
        if source_fingerprint is None:
            same_source = col(ProductLink.source_fingerprint).is_(None)
        else:
            same_source = col(ProductLink.source_fingerprint) == source_fingerprint
        async with self.db.write() as session:
            result = await session.execute(
                update(ProductLink)
                .where(
                    col(ProductLink.id) == link_id,
                    same_source,
                    col(ProductLink.stage).in_([Stage.RENDERING, Stage.WRITING]),
                )
                .values(stage=stage, reason=reason, next_attempt_at=None, updated_at=now)
            )
            if rowcount(result) != 1:
                return False
            link = await _fresh(session, ProductLink, link_id)
            session.add(_event(link, now, stage.value, reason or f"product {stage.value}", None))
        return True

    async def links_to_settle(self, limit: int) -> list[int]:
        """Return ids of ``rendering`` links whose current renders have all finished.

        The engine settles a link right after its last render's step, so such
        a link is left only by a daemon that stopped between the two writes.
        """
        renders_of_source = (
            col(Render.link_id) == col(ProductLink.id),
            col(Render.source_fingerprint) == col(ProductLink.source_fingerprint),
        )
        still_open = [RenderStatus.REQUESTED, RenderStatus.RUNNING, RenderStatus.COMPLETED]
        query = (
            select(col(ProductLink.id))
            .where(
                col(ProductLink.stage) == Stage.RENDERING,
                exists().where(*renders_of_source),
                ~exists().where(*renders_of_source, col(Render.status).in_(still_open)),
            )
            .order_by(col(ProductLink.id))
            .limit(limit)
        )
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def generation_recorded(self, generation_id: str) -> bool:
        """Return whether a render already records PergAI generation ``generation_id``."""
        return await self.find_render_by_generation(generation_id) is not None

    async def ensure_renders(
        self,
        link_id: int,
        output_keys: Sequence[str],
        source_fingerprint: str,
        *,
        next_attempt_at: datetime | None = None,
    ) -> list[Render]:
        """Create the missing renders of a link for a source image; return all of them.

        Renders that already exist for (link, output key, fingerprint) are
        returned as they are, so calling this again never requests an output
        twice. New renders are ``requested`` and due at ``next_attempt_at``
        (default now), and so are superseded ones: the source image came back
        after the store had replaced it. The result follows the order of ``output_keys``.
        """
        now = self.now()
        due = next_attempt_at or now
        async with self.db.write() as session:
            await self._lock_source(session, link_id, source_fingerprint)
            for key in output_keys:
                await session.execute(
                    self.insert_if_absent(
                        Render, ["link_id", "output_key", "source_fingerprint"]
                    ).values(
                        link_id=link_id,
                        output_key=key,
                        source_fingerprint=source_fingerprint,
                        status=RenderStatus.REQUESTED,
                        detached_ids=[],
                        attempts=0,
                        next_attempt_at=due,
                        created_at=now,
                        updated_at=now,
                    )
                )
            await session.execute(
                update(Render)
                .where(
                    col(Render.link_id) == link_id,
                    col(Render.source_fingerprint) == source_fingerprint,
                    col(Render.output_key).in_(list(output_keys)),
                    col(Render.status) == RenderStatus.SUPERSEDED,
                )
                .values(
                    status=RenderStatus.REQUESTED,
                    generation_id=None,
                    result_url=None,
                    reason=None,
                    attempts=0,
                    next_attempt_at=due,
                    updated_at=now,
                )
            )
            rows = await session.scalars(
                select(Render).where(
                    col(Render.link_id) == link_id,
                    col(Render.source_fingerprint) == source_fingerprint,
                    col(Render.output_key).in_(list(output_keys)),
                )
            )
            by_key = {render.output_key: render for render in rows}
        return [by_key[key] for key in output_keys]

    async def _lock_source(
        self, session: AsyncSession, link_id: int, source_fingerprint: str
    ) -> None:
        """Hold the link's source image for this transaction; raise if it is another one now.

        FOR SHARE makes a concurrent upsert of a new source image wait until the
        renders exist, so it supersedes them, instead of renders for the old image
        appearing after it has moved on.
        """
        current = await session.scalar(
            select(col(ProductLink.source_fingerprint))
            .where(col(ProductLink.id) == link_id)
            .with_for_update(read=True)
        )
        if current != source_fingerprint:
            raise LeaseLostError(
                f"product link {link_id} has a new source image; "
                "outputs for the old one are not requested"
            )

    async def renders_of_link(
        self, link_id: int, source_fingerprint: str | None = None
    ) -> list[Render]:
        """Return a link's renders, oldest first; only those of one source image when given."""
        query = select(Render).where(col(Render.link_id) == link_id)
        if source_fingerprint is not None:
            query = query.where(col(Render.source_fingerprint) == source_fingerprint)
        async with self.db.read() as session:
            return list(await session.scalars(query.order_by(col(Render.id))))

    async def find_render_by_generation(self, generation_id: str) -> Render | None:
        """Return the render that started PergAI generation ``generation_id``, or None."""
        async with self.db.read() as session:
            return await session.scalar(
                select(Render).where(col(Render.generation_id) == generation_id)
            )

    async def set_link_stage(
        self,
        link_id: int,
        stage: Stage,
        *,
        action: str,
        message: str = "",
        reason: str | None = None,
        next_attempt_at: datetime | None = None,
        reset_attempts: bool = False,
    ) -> None:
        """Force a link into ``stage`` outside the engine (CLI `retry`, `revert`).

        Takes any lease away, so a step still running on the link cannot
        record its result. Writes an event-log line.
        """
        now = self.now()
        values: dict[str, Any] = {
            "stage": stage,
            "reason": reason,
            "next_attempt_at": next_attempt_at,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": now,
        }
        if reset_attempts:
            values.update(attempts=0, last_error=None)
        async with self.db.write() as session:
            await session.execute(
                update(ProductLink).where(col(ProductLink.id) == link_id).values(**values)
            )
            link = await _fresh(session, ProductLink, link_id)
            session.add(_event(link, now, action, message, None))

    async def retry_failed(self, store_id: int | None = None, product_id: str | None = None) -> int:
        """Send failed links (and their failed renders) back to work now; return the link count.

        Failed links go back to ``discovered`` and failed renders to
        ``requested``, with attempts reset. Every step is idempotent, so
        starting again from the first step is safe.
        """
        now = self.now()
        conditions = [col(ProductLink.stage) == Stage.FAILED]
        if store_id is not None:
            conditions.append(col(ProductLink.store_id) == store_id)
        if product_id is not None:
            conditions.append(col(ProductLink.product_id) == product_id)

        async with self.db.write() as session:
            links = list(await session.scalars(select(ProductLink).where(*conditions)))
            ids = [link.id for link in links]
            if not ids:
                return 0
            await session.execute(
                update(ProductLink)
                .where(col(ProductLink.id).in_(ids))
                .values(
                    stage=Stage.DISCOVERED,
                    attempts=0,
                    reason=None,
                    last_error=None,
                    next_attempt_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
            await session.execute(
                update(Render)
                .where(col(Render.link_id).in_(ids), col(Render.status) == RenderStatus.FAILED)
                .values(
                    status=RenderStatus.REQUESTED,
                    attempts=0,
                    reason=None,
                    last_error=None,
                    next_attempt_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
            for link in links:
                session.add(_event(link, now, "retry", "retry requested", None))
        return len(ids)

    async def reopen_for_config(self, store_id: int, output_keys: Sequence[str]) -> int:
        """Send a store's links back to work that its current config would treat otherwise.

        Skipped links go back to ``discovered``, so the filters are applied
        again. Done links that lack a written, held or reverted render of one
        of ``output_keys`` for their current source image go back to
        ``pushed``, so the missing outputs are requested. Returns how many.
        """
        now = self.now()
        written = (
            select(col(Render.output_key))
            .where(
                col(Render.link_id) == col(ProductLink.id),
                col(Render.source_fingerprint) == col(ProductLink.source_fingerprint),
                col(Render.output_key).in_(list(output_keys)),
                # A reverted output counts as handled: `revert` must not be undone.
                col(Render.status).in_(
                    [RenderStatus.WRITTEN, RenderStatus.REVIEW, RenderStatus.REVERTED]
                ),
            )
            .distinct()
            .correlate(ProductLink)
        )
        missing_output = select(func.count()).select_from(written.subquery()).scalar_subquery()
        reopen = {"next_attempt_at": now, "reason": None, "updated_at": now}
        async with self.db.write() as session:
            skipped = await session.execute(
                update(ProductLink)
                .where(
                    col(ProductLink.store_id) == store_id, col(ProductLink.stage) == Stage.SKIPPED
                )
                .values(stage=Stage.DISCOVERED, **reopen)
            )
            incomplete = await session.execute(
                update(ProductLink)
                .where(
                    col(ProductLink.store_id) == store_id,
                    col(ProductLink.stage) == Stage.DONE,
                    col(ProductLink.pergai_product_id).is_not(None),
                    missing_output < len(set(output_keys)),
                )
                .values(stage=Stage.PUSHED, **reopen)
            )
        return rowcount(skipped) + rowcount(incomplete)


async def _fresh(session: AsyncSession, model: type[M], row_id: int) -> M:
    row = await session.get(model, row_id, populate_existing=True)
    assert row is not None, f"{model.__name__} {row_id} vanished inside its own transaction"
    return row


def _event(link: ProductLink, now: datetime, action: str, message: str, owner: str | None) -> Event:
    return Event(
        at=now,
        store_id=link.store_id,
        link_id=link.id,
        product_id=link.product_id,
        action=action,
        message=message,
        owner=owner,
    )
