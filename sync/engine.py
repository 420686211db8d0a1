"""The engine: claim due work from the database and run each step, with bounded concurrency.

Every step is claimed with a lease, so several daemons on one PostgreSQL
share the work and a crashed daemon's rows come back when its leases expire.
A step's error becomes a retry with backoff or a final ``failed`` with the
reason; nothing a step raises escapes the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from storage.claims import ClaimedRender
from storage.errors import LeaseLostError
from storage.models import ProductLink, RenderStatus, Stage
from sync.context import Context, StoreRuntime
from sync.discovery import process_inbox
from sync.errors import PergaiSyncError, RemoteError
from sync.failures import judge
from sync.push import run_link_step
from sync.renders import check_running, start_render
from sync.writeback import settle_link, write_render

logger = logging.getLogger(__name__)

BATCH = 50
# How long a render waits when another daemon is writing to the same product.
WRITE_BUSY_DELAY = timedelta(seconds=2)
LINK_STAGES = (Stage.DISCOVERED, Stage.PUSHED)


class Engine:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.pergai_slots = asyncio.Semaphore(ctx.settings.pergai.max_concurrency)
        # Writes to one product in this process queue here; the link lease covers other daemons.
        self.link_locks: dict[int, asyncio.Lock] = {}

    async def run_due(self) -> int:
        """Run one round of due work of every kind; return how many steps ran."""
        steps = await process_inbox(self.ctx)
        steps += await self.run_links()
        steps += await self.run_renders(RenderStatus.REQUESTED, self.start)
        steps += await self.check_jobs()
        steps += await self.run_renders(RenderStatus.COMPLETED, self.write)
        await self.settle_stranded()
        return steps

    async def drain(self, max_rounds: int = 1000) -> int:
        """Run rounds until nothing is due; return the steps run."""
        total = 0
        for _ in range(max_rounds):
            steps = await self.run_due()
            if steps == 0:
                break
            total += steps
        return total

    # Product links

    async def run_links(self) -> int:
        links = await self.ctx.repo.claim_links(
            self.ctx.owner, LINK_STAGES, limit=BATCH, lease_seconds=self.ctx.lease_seconds
        )
        await asyncio.gather(*(self.guard_link(link) for link in links))
        return len(links)

    async def guard_link(self, link: ProductLink) -> None:
        store = self.ctx.store_by_id(link.store_id)
        async with store.semaphore, self.pergai_slots:
            await self.guarded(
                lambda: run_link_step(self.ctx, store, link),
                on_error=lambda error: self.fail_link(link, error),
                step=f"link_{link.stage.value}",
                store=store,
                product=link.product_id,
            )

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

    async def run_renders(
        self,
        status: RenderStatus,
        step: Callable[[StoreRuntime, ClaimedRender], Awaitable[None]],
    ) -> int:
        claimed = await self.ctx.repo.claim_renders(
            self.ctx.owner, [status], limit=BATCH, lease_seconds=self.ctx.lease_seconds
        )
        await asyncio.gather(*(self.guard_render(item, step) for item in claimed))
        return len(claimed)

    async def guard_render(
        self, item: ClaimedRender, step: Callable[[StoreRuntime, ClaimedRender], Awaitable[None]]
    ) -> None:
        store = self.ctx.store_by_id(item.link.store_id)
        async with store.semaphore, self.pergai_slots:
            await self.guarded(
                lambda: step(store, item),
                on_error=lambda error: self.fail_render(item, error),
                step=f"render_{item.render.status.value}",
                store=store,
                product=item.link.product_id,
            )
        assert item.link.id is not None
        await settle_link(self.ctx, item.link.id)

    async def start(self, store: StoreRuntime, item: ClaimedRender) -> None:
        await start_render(self.ctx, store, item)

    async def write(self, store: StoreRuntime, item: ClaimedRender) -> None:
        """Write one render while holding its link, so a product gets one write at a time."""
        link_id, render_id = item.link.id, item.render.id
        assert link_id is not None and render_id is not None
        lock = self.link_locks.setdefault(link_id, asyncio.Lock())
        async with lock:
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

        Not counted as steps: a link that cannot settle would keep ``drain`` looping.
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
