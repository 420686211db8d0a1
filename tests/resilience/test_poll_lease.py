"""A catalogue scan keeps its store lease for as long as it runs, and stops when it lost it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.errors import LeaseLostError
from sync.discovery import PollLease
from tests.bad_input.helpers import running_daemon

OTHER_DAEMON = "other-daemon"


async def test_scan_renews_its_lease(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        store = run.store("shop")
        lease = PollLease(run.ctx, store, seconds=0.6)
        assert await lease.take()

        # Twice the lease's length goes by, with the scan renewing as it reads.
        for _ in range(6):
            await asyncio.sleep(0.2)
            await lease.keep()

        taken = await run.ctx.repo.acquire_store_lease(store.store_id, OTHER_DAEMON, 0.6)
        assert not taken


async def test_scan_stops_once_lease_taken(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        store = run.store("shop")
        lease = PollLease(run.ctx, store, seconds=0.3)
        assert await lease.take()

        # A scan stalled past its lease (one slow page) lets another daemon take the store.
        await asyncio.sleep(0.4)
        assert await run.ctx.repo.acquire_store_lease(store.store_id, OTHER_DAEMON, 60)

        with pytest.raises(LeaseLostError, match="another daemon took over"):
            await lease.keep()
