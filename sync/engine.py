"""The engine: claim due work from the database and run each step, with bounded concurrency.

Every step is claimed with a lease, so several daemons on one PostgreSQL
share the work and a crashed daemon's rows come back when its leases expire.
A step's error becomes a retry with backoff or a final ``failed`` with the
reason; nothing a step raises escapes the engine.

Each kind of step has its own lane (see ``lanes.py``). The daemon keeps the
lanes full, claiming again whenever a step ends; ``run_due`` runs one round
and waits for it, for the one-off ``sync`` command and for tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

from storage.claims import ClaimedRender
from storage.errors import LeaseLostError
from storage.models import ProductLink, RenderStatus, Stage
from sync.context import Context, StoreRuntime
from sync.discovery import process_inbox
from sync.errors import PergaiSyncError, RemoteError
from sync.failures import judge
from sync.lanes import Lane, Step
from sync.push import run_link_step
from sync.renders import check_running, start_render
from sync.writeback import settle_link, write_render

logger = logging.getLogger(__name__)

BATCH = 50
# How long a render waits when another daemon is writing to the same product.
WRITE_BUSY_DELAY = timedelta(seconds=2)
LINK_STAGES = (Stage.DISCOVERED, Stage.PUSHED)
# Steps that end within this long of each other are followed by one claim, not one each.
REFILL_DELAY = 0.02


class Engine:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # Writes to one product in this process queue here; the link lease covers other daemons.
        self.link_locks: dict[int, asyncio.Lock] = {}
        self.writes_in_flight: Counter[int] = Counter()
        self.step_ended = asyncio.Event()

        # PergAI steps are limited here, so a daemon claims only what it can start soon,
        # and again per request in the PergAI client. Writes are claimed per store, up
        # to concurrency_per_store each (``claim_writes``).
        pergai = 2 * ctx.settings.pergai.max_concurrency
        writes = ctx.settings.daemon.concurrency_per_store * max(len(ctx.stores), 1)
        ended = self.step_ended.set
        self.lanes = [
            Lane("inbox", 1, self.claim_inbox, ended),
            Lane("link", pergai, self.claim_links, ended),
            Lane("start", pergai, self.claim_starts, ended),
            Lane("check", 1, self.claim_check, ended),
            Lane("write", writes, self.claim_writes, ended),
        ]

    @property
    def steps_done(self) -> int:
        return sum(lane.steps_done for lane in self.lanes)

    # Driving the lanes

    async def fill(self) -> int:
        """Start due steps in every lane that has room; return how many started."""
        return sum([await lane.fill() for lane in self.lanes])

    async def join(self) -> None:
        for lane in self.lanes:
            await lane.join()

    def cancel(self) -> None:
        for lane in self.lanes:
            lane.cancel()

    async def run_due(self) -> int:
        """Run one round of due work of every kind and wait for it; return how many steps ran.

        A step that crashed (a bug, not a remote or input error) is raised here.
        """
        before = self.steps_done
        for lane in self.lanes:
            lane.crash = None
        await self.fill()
        await self.join()
        await self.settle_stranded()

        crashes = [lane.crash for lane in self.lanes if lane.crash is not None]
        if crashes:
            raise crashes[0]
        return self.steps_done - before

    async def run(self, stopping: asyncio.Event, wake: asyncio.Event, interval: float) -> None:
        """Keep the lanes full until ``stopping`` is set, then wait for the steps in flight.

        The lanes are filled again whenever a step ends, when ``wake`` is set,
        and at least every ``interval`` seconds (which also settles stranded links).
        """
        last_sweep = time.monotonic()
        while not stopping.is_set():
            try:
                await self.fill()
                if time.monotonic() - last_sweep >= interval:
                    last_sweep = time.monotonic()
                    await self.settle_stranded()
            except PergaiSyncError:
                logger.exception("claiming work failed", extra={"action": "claim_failed"})
            await self.wait_for_change(wake, interval)
        await self.join()

    async def wait_for_change(self, wake: asyncio.Event, interval: float) -> None:
        """Return when a step ends, when ``wake`` is set, or after ``interval`` seconds."""
        waits = [asyncio.ensure_future(event.wait()) for event in (wake, self.step_ended)]
        try:
            await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
        if self.step_ended.is_set():
            await asyncio.sleep(REFILL_DELAY)
        self.step_ended.clear()
        wake.clear()

    # Claims: each returns the steps to start

    async def claim_inbox(self, room: int) -> list[Step]:
        return [partial(process_inbox, self.ctx)]

    async def claim_check(self, room: int) -> list[Step]:
        return [self.check_jobs]

    async def claim_links(self, room: int) -> list[Step]:
        links = await self.ctx.repo.claim_links(
            self.ctx.owner, LINK_STAGES, limit=room, lease_seconds=self.ctx.lease_seconds
        )
        return [partial(self.guard_link, link) for link in links]

    async def claim_starts(self, room: int) -> list[Step]:
        return await self.claim_renders(RenderStatus.REQUESTED, self.start, room)

    async def claim_writes(self, room: int) -> list[Step]:
        """Claim writes store by store, each up to its share, so one slow store cannot take all."""
        per_store = self.ctx.settings.daemon.concurrency_per_store
        steps: list[Step] = []
        for store_id in await self.ctx.repo.stores_with_due_renders(RenderStatus.COMPLETED):
            free = min(per_store - self.writes_in_flight[store_id], room - len(steps))
            if free <= 0:
                continue
            claimed = await self.ctx.repo.claim_renders(
                self.ctx.owner,
                [RenderStatus.COMPLETED],
                limit=free,
                lease_seconds=self.ctx.lease_seconds,
                store_id=store_id,
            )
            self.writes_in_flight[store_id] += len(claimed)
            steps += [partial(self.guard_write, item) for item in claimed]
        return steps

    async def claim_renders(
        self,
        status: RenderStatus,
        step: Callable[[StoreRuntime, ClaimedRender], Awaitable[None]],
        room: int,
    ) -> list[Step]:
        claimed = await self.ctx.repo.claim_renders(
            self.ctx.owner, [status], limit=room, lease_seconds=self.ctx.lease_seconds
        )
        return [partial(self.guard_render, item, step) for item in claimed]

    # Product links

    async def guard_link(self, link: ProductLink) -> int:
        store = self.ctx.store_by_id(link.store_id)
        await self.guarded(
            lambda: run_link_step(self.ctx, store, link),
            on_error=lambda error: self.fail_link(link, error),
            step=f"link_{link.stage.value}",
            store=store,
            product=link.product_id,
        )
        return 1

    async def fail_link(self, link: ProductLink, error: PergaiSyncError) -> None:
        assert link.id is not None
        outcome = self.failure_outcome(error, link.attempts, failed_action="failed")
        await self.ctx.repo.record_link_step(
            link.id,
            self.ctx.owner,
            stage=link.stage if outcome["next_attempt_at"] else Stage.FAILED,
            **outcome,
        )

    def failure_outcome(
        self, error: PergaiSyncError, attempts_before: int, *, failed_action: str
    ) -> dict[str, Any]:
        """Return the step-record fields for a failed step: a retry later, or a final reason."""
        attempts = attempts_before + 1
        verdict = judge(
            error, attempts, self.ctx.clock(), self.ctx.settings.daemon.retry_base_delay
        )
        return {
            "next_attempt_at": verdict.retry_at,
            "attempts": attempts if verdict.counts_attempt else attempts_before,
            "reason": None if verdict.retry_at else verdict.reason,
            "last_error": verdict.reason,
            "action": "retry" if verdict.retry_at else failed_action,
            "message": verdict.reason,
        }

    # Renders

    async def guard_render(
        self, item: ClaimedRender, step: Callable[[StoreRuntime, ClaimedRender], Awaitable[None]]
    ) -> int:
        store = self.ctx.store_by_id(item.link.store_id)
        await self.guarded(
            lambda: step(store, item),
            on_error=lambda error: self.fail_render(item, error),
            step=f"render_{item.render.status.value}",
            store=store,
            product=item.link.product_id,
        )
        assert item.link.id is not None
        await settle_link(self.ctx, item.link.id)
        return 1

    async def guard_write(self, item: ClaimedRender) -> int:
        try:
            return await self.guard_render(item, self.write)
        finally:
            self.writes_in_flight[item.link.store_id] -= 1

    async def start(self, store: StoreRuntime, item: ClaimedRender) -> None:
        await start_render(self.ctx, store, item)

    async def write(self, store: StoreRuntime, item: ClaimedRender) -> None:
        """Write one render while holding its link, so a product gets one write at a time."""
        link_id, render_id = item.link.id, item.render.id
        assert link_id is not None and render_id is not None
        lock = self.link_locks.setdefault(link_id, asyncio.Lock())
        async with lock, store.semaphore:
            if not await self.ctx.repo.lease_link(link_id, self.ctx.owner, self.ctx.lease_seconds):
                await self.ctx.repo.record_render_step(
                    render_id,
                    self.ctx.owner,
                    status=RenderStatus.COMPLETED,
                    next_attempt_at=self.ctx.clock() + WRITE_BUSY_DELAY,
                )
                return
            try:
                await write_render(self.ctx, store, item)
            finally:
                await self.ctx.repo.release_link(link_id, self.ctx.owner)

    async def settle_stranded(self) -> None:
        """Settle links whose renders all finished before a stopped daemon could settle them.

        Not counted as steps: a link that cannot settle would keep a caller of
        ``run_due`` looping.
        """
        for link_id in await self.ctx.repo.links_to_settle(limit=BATCH):
            await settle_link(self.ctx, link_id)

    async def check_jobs(self) -> int:
        """Check running PergAI jobs in one batch; finished ones are recorded at once."""
        claimed = await self.ctx.repo.claim_renders(
            self.ctx.owner, [RenderStatus.RUNNING], limit=200, lease_seconds=self.ctx.lease_seconds
        )
        if not claimed:
            return 0

        try:
            finished = await check_running(self.ctx, claimed)
        except RemoteError as error:
            self.ctx.metrics.api_errors.labels(
                service=error.service, kind=type(error).__name__
            ).inc()
            logger.warning(
                "checking PergAI jobs failed: %s", error, extra={"action": "check_failed"}
            )
            await asyncio.gather(*(self.release_render(item) for item in claimed))
            return 0

        for item in finished:
            assert item.link.id is not None
            await settle_link(self.ctx, item.link.id)
        return len(finished)

    async def release_render(self, item: ClaimedRender) -> None:
        assert item.render.id is not None
        await self.ctx.repo.release_render(item.render.id, self.ctx.owner)

    async def fail_render(self, item: ClaimedRender, error: PergaiSyncError) -> None:
        render = item.render
        assert render.id is not None
        outcome = self.failure_outcome(error, render.attempts, failed_action="render_failed")
        await self.ctx.repo.record_render_step(
            render.id,
            self.ctx.owner,
            status=render.status if outcome["next_attempt_at"] else RenderStatus.FAILED,
            **outcome,
        )

    # Shared error handling

    async def guarded(
        self,
        run: Callable[[], Awaitable[None]],
        *,
        on_error: Callable[[PergaiSyncError], Awaitable[None]],
        step: str,
        store: StoreRuntime,
        product: str,
    ) -> None:
        """Run one step; a project error is recorded on its row, a lost lease is dropped."""
        try:
            await run()
        except LeaseLostError:
            logger.info(
                "lease lost during %s; another daemon or a newer change took the row",
                step,
                extra={"action": "lease_lost", "store": store.name, "product": product},
            )
            return
        except PergaiSyncError as error:
            self.ctx.metrics.steps.labels(step=step, outcome="error").inc()
            if isinstance(error, RemoteError):
                self.ctx.metrics.api_errors.labels(
                    service=error.service, kind=type(error).__name__
                ).inc()
            logger.warning(
                "%s failed: %s",
                step,
                error,
                extra={"action": "step_failed", "store": store.name, "product": product},
            )
            try:
                await on_error(error)
            except LeaseLostError:
                return
            return
        self.ctx.metrics.steps.labels(step=step, outcome="ok").inc()
