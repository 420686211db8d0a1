"""The daemon's timers: a run that a busy event loop delays still happens."""

from __future__ import annotations

import asyncio
import time

from sync.daemon import timer_scheduler


async def test_late_timer_still_fires() -> None:
    scheduler = timer_scheduler()
    runs: list[float] = []
    scheduler.add_job(lambda: runs.append(time.monotonic()), "interval", seconds=3.0)
    scheduler.start()
    try:
        # Hold the event loop past the first run time (3 s) by more than APScheduler's
        # default one-second grace, as a loop busy with steps can, and look before
        # the second run time (6 s).
        time.sleep(4.6)  # noqa: ASYNC251 (blocking the loop is the point)
        await asyncio.sleep(0.3)
    finally:
        scheduler.shutdown(wait=False)

    assert len(runs) == 1
