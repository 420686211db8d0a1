"""`pergai-sync run`: the webhook server, the timers and the engine in one process.

APScheduler only fires timers: poll a store, wake the engine, reconcile,
prune and renew leases. Correctness never depends on a timer firing once,
because every piece of work is claimed in the database. A webhook wakes the
engine at once; the timers are the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from connectors.base import WebhookDelivery
from storage.inbox import NewDelivery, RecordedDelivery
from storage.migrate import upgrade
from sync.batching import Batcher
from sync.config.settings import Settings
from sync.context import Context, StoreRuntime
from sync.discovery import apply_config, poll_store
from sync.engine import Engine
from sync.errors import ConfigError, PergaiSyncError
from sync.progress import open_work_count
from sync.runtime import open_context, platform_of
from sync.server import StoreEndpoint, WebhookServer

logger = logging.getLogger(__name__)


class RepositoryInbox:
    """The webhook server's inbox, backed by the mapping database.

    Deliveries that arrive together are committed together (``batching.py``).
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.batcher: Batcher[NewDelivery, RecordedDelivery] = Batcher(ctx.repo.record_deliveries)

    async def record_delivery(
        self, store: str, platform: str, delivery: WebhookDelivery, raw: str
    ) -> bool:
        store_id = self.ctx.stores[store].store_id
        new = NewDelivery(store_id, platform, delivery.key, delivery.topic, raw)
        return (await self.batcher.submit(new)).new

    async def ping(self) -> None:
        await self.ctx.repo.ping()


class OutageLog:
    """Logs a failing store once when polling starts failing and once when it recovers."""

    def __init__(self) -> None:
        self.down: set[str] = set()

    def failed(self, store: str, error: PergaiSyncError) -> None:
        if store not in self.down:
            self.down.add(store)
            logger.error(
                "polling %s failed: %s",
                store,
                error,
                extra={"action": "poll_failed", "store": store},
            )

    def succeeded(self, store: str) -> None:
        if store in self.down:
            self.down.discard(store)
            logger.info(
                "polling %s works again", store, extra={"action": "poll_recovered", "store": store}
            )


def timer_scheduler() -> AsyncIOScheduler:
    """Return a scheduler whose timers fire however late a busy event loop lets them.

    APScheduler drops a run that starts over a second late, and lease renewal is
    the timer that must not be dropped: a busy daemon would lose its rows.
    """
    return AsyncIOScheduler(
        timezone="UTC", job_defaults={"misfire_grace_time": None, "coalesce": True}
    )


class Daemon:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.engine = Engine(ctx)
        self.wake_event = asyncio.Event()
        self.stopping = asyncio.Event()
        self.outages = OutageLog()
        self.scheduler = timer_scheduler()
        self.scanning: dict[str, asyncio.Lock] = {}

    # Timers

    def schedule(self) -> None:
        daemon = self.ctx.settings.daemon
        for store in self.ctx.stores.values():
            self.scheduler.add_job(
                self.poll,
                "interval",
                args=[store],
                seconds=store.config.poll_interval,
                id=f"poll-{store.name}",
                max_instances=1,
                coalesce=True,
            )
            self.scheduler.add_job(
                self.poll,
                "interval",
                args=[store, True],
                seconds=daemon.reconcile_interval,
                id=f"reconcile-{store.name}",
                max_instances=1,
                coalesce=True,
            )
        self.scheduler.add_job(self.wake, "interval", seconds=daemon.drain_interval, id="drain")
        self.scheduler.add_job(self.wake, "interval", seconds=daemon.job_check_interval, id="jobs")
        self.scheduler.add_job(
            self.renew, "interval", seconds=max(daemon.lease / 3, 1.0), id="renew", max_instances=1
        )
        self.scheduler.add_job(self.prune, "interval", hours=6, id="prune", max_instances=1)

    async def poll(self, store: StoreRuntime, full: bool = False) -> None:
        """Read the store's changes; a poll that finds a scan of the store running is skipped.

        A full scan (reconciliation) waits for the running one instead, because
        it also notices deletions.
        """
        scanning = self.scanning.setdefault(store.name, asyncio.Lock())
        if scanning.locked() and not full:
            return

        async with scanning:
            try:
                count = await poll_store(self.ctx, store, full=full)
            except PergaiSyncError as error:
                self.outages.failed(store.name, error)
                return
        self.outages.succeeded(store.name)
        if count:
            self.wake()

    def wake(self, store: str | None = None) -> None:
        self.wake_event.set()

    async def renew(self) -> None:
        with contextlib.suppress(PergaiSyncError):
            await self.ctx.repo.renew_leases(self.ctx.owner, self.ctx.lease_seconds)

    async def prune(self) -> None:
        retention = timedelta(seconds=self.ctx.settings.daemon.inbox_retention)
        with contextlib.suppress(PergaiSyncError):
            await self.ctx.repo.prune_deliveries(retention)

    # The engine loop

    async def work(self) -> None:
        """Keep the engine's lanes full until stopped; refresh the gauges every drain interval."""
        interval = self.ctx.settings.daemon.drain_interval
        gauges = asyncio.create_task(self.refresh_gauges(interval), name="gauges")
        try:
            await self.engine.run(self.stopping, self.wake_event, interval)
        finally:
            gauges.cancel()

    async def refresh_gauges(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(PergaiSyncError):
                await self.update_gauges()

    async def update_gauges(self) -> None:
        counts = await self.ctx.repo.stage_counts()
        for store, stages in counts.items():
            for stage, count in stages.items():
                self.ctx.metrics.products.labels(store=store, stage=stage.value).set(count)
        running = sum(
            statuses.get("running", 0)  # type: ignore[call-overload]
            for statuses in (await self.ctx.repo.render_counts()).values()
        )
        self.ctx.metrics.jobs_running.set(running)

    # Lifecycle

    async def start_server(self) -> web.AppRunner:
        settings = self.ctx.settings
        endpoints = {
            name: StoreEndpoint(platform_of(store.config), store.connector)
            for name, store in self.ctx.stores.items()
        }
        server = WebhookServer(
            endpoints,
            RepositoryInbox(self.ctx),
            self.ctx.metrics,
            self.wake,
            max_body_bytes=settings.server.max_body_bytes,
            refresh_metrics=self.update_gauges,
        )
        runner = web.AppRunner(server.app(), handle_signals=False, access_log=None)
        await runner.setup()
        host, port = settings.server.host, settings.server.port
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            await runner.cleanup()
            raise ConfigError(
                f"cannot listen on {host}:{port} ({error.strerror}); change [server] port "
                "or stop the process that uses it"
            ) from error
        logger.info(
            "webhook server listening on http://%s:%s",
            settings.server.host,
            runner.addresses[0][1] if runner.addresses else settings.server.port,
            extra={"action": "server_started"},
        )
        return runner

    async def run(self, *, until_done: bool = False) -> None:
        """Serve and work until ``stop`` (or, with ``until_done``, until nothing is left)."""
        runner = await self.start_server()
        self.schedule()
        self.scheduler.start()
        await apply_config(self.ctx)

        # The engine starts at once: a first scan of a large store can take minutes,
        # and its products are worked on as they are recorded.
        worker = asyncio.create_task(self.work(), name="engine")
        first_polls = asyncio.ensure_future(
            asyncio.gather(*(self.poll(store) for store in self.ctx.stores.values()))
        )
        try:
            await self.wait_unless_stopped(first_polls)
            if until_done:
                await self.wait_until_settled()
            else:
                await self.stopping.wait()
        finally:
            first_polls.cancel()
            await self.shutdown(runner, worker)

    async def wait_unless_stopped(self, work: asyncio.Future[list[None]]) -> None:
        stopped: asyncio.Future[Any] = asyncio.ensure_future(self.stopping.wait())
        waits: set[asyncio.Future[Any]] = {work, stopped}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if work.done():
            work.result()

    async def wait_until_settled(self) -> None:
        while not self.stopping.is_set():
            await asyncio.sleep(0.5)
            if await open_work_count(self.ctx.repo) == 0:
                return

    def stop(self) -> None:
        self.stopping.set()
        self.wake_event.set()

    async def shutdown(self, runner: web.AppRunner, worker: asyncio.Task[None]) -> None:
        """Stop the timers and the server, let the steps in flight finish, release leases."""
        self.stop()
        self.scheduler.shutdown(wait=False)
        await runner.cleanup()

        grace = self.ctx.settings.daemon.shutdown_grace
        try:
            await asyncio.wait_for(worker, timeout=grace)
        except TimeoutError:
            logger.warning(
                "in-flight steps did not finish within %.0f s; stopping them",
                grace,
                extra={"action": "shutdown_timeout"},
            )
            # As after a crash, their rows' leases are released below and another try redoes them.
            self.engine.cancel()
            await self.engine.join()

        released = await self.ctx.repo.release_leases(self.ctx.owner)
        logger.info(
            "stopped; released %d leases",
            released,
            extra={"action": "stopped", "owner": self.ctx.owner},
        )


async def run_daemon(settings: Settings, *, until_done: bool = False) -> None:
    """Apply migrations, take the database, and run the daemon until SIGTERM or SIGINT."""
    # Signals are handled from the first moment, so a SIGTERM during start-up
    # (migrations, connecting) ends the process cleanly instead of killing it.
    stop_requested = asyncio.Event()
    daemon: Daemon | None = None

    def request_stop() -> None:
        stop_requested.set()
        if daemon is not None:
            daemon.stop()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_stop)

    await upgrade(settings.database.url)
    async with open_context(settings) as ctx:
        lock = ctx.repo.db.lock_for_daemon(ctx.owner)
        try:
            daemon = Daemon(ctx)
            if stop_requested.is_set():
                logger.info("stopped before start-up finished", extra={"action": "stopped"})
                return
            logger.info(
                "daemon %s started", ctx.owner, extra={"action": "started", "owner": ctx.owner}
            )
            await daemon.run(until_done=until_done)
        finally:
            lock.release()
