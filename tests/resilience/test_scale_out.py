"""Scale-out: three daemons on one PostgreSQL share the work, do nothing twice, and take over.

Three `pergai-sync run` subprocesses share one PostgreSQL database and two
simulated stores (Shopify and WooCommerce, the catalogue split between them).
Mid-run one daemon is killed with SIGKILL while it holds leases; the other
two must finish its rows once its leases (5 s here) expire. The run prints
the work each daemon did (from the event log's owner column), how long
after the kill the others had claimed every row the killed daemon held, and
the takeover time: from the kill until every one of those rows is finished.

SQLite allows one daemon per database file, so this suite runs on PostgreSQL
only (PERGAI_SYNC_TEST_DATABASE_URL).

CI form (60 products, 3 daemons, one killed)::

    pytest tests/resilience/test_scale_out.py -s

Long form (1,000 products)::

    PERGAI_SYNC_SLOW=1 pytest tests/resilience/test_scale_out.py -s -k long
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage.database import Database
from tests.acceptance.harness import Simulators, free_port, start_simulators, write_config
from tests.resilience.conftest import slow
from tests.resilience.helpers import (
    OUTPUTS_PER_PRODUCT,
    Audit,
    DaemonProcess,
    HeldRows,
    all_done,
    audit,
    daemon_config,
    events_by_owner,
    original_images,
    read_links_and_renders,
    rows_held_by,
    seed_catalogue,
    start_daemon,
    unfinished,
    wait_settled,
)

DAEMONS = 3
STORES = 2
LEASE = "5s"
# Rows the victim must hold when it is killed, so the takeover has something to measure.
MIN_HELD = 5
VICTIM = 1
# Actions whose event-log lines count as work done by a daemon.
WORK_ACTIONS = ("pushed", "rendering", "render_started", "render_completed", "written")


@dataclass
class ScaleOutResult:
    audit: Audit
    settled: bool
    work: dict[str, Counter[str]] = field(default_factory=dict)
    held_at_kill: int = 0
    # From the kill until no row carries the killed daemon's lease any more.
    pickup_seconds: float | None = None
    takeover_seconds: float | None = None


async def start_daemons(sims: Simulators, database_url: str, tmp_path: Path) -> list[DaemonProcess]:
    """Start the daemons, each with its own config (its own webhook port) on one database."""
    daemons = []
    for number in range(DAEMONS):
        config = tmp_path / f"daemon-{number}.toml"
        write_config(config, daemon_config(sims, database_url, free_port(), lease=LEASE), sims)
        daemons.append(await start_daemon(config, sims, tmp_path / f"daemon-{number}.log"))
    return daemons


async def kill_while_holding(
    victim: DaemonProcess, database: Database, min_written: int, max_wait: float
) -> tuple[float, HeldRows]:
    """Kill ``victim`` once some images are written and it holds leases.

    Returns the time of the kill and the rows the victim still held.
    """
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        _, renders = await read_links_and_renders(database)
        written = sum(1 for render in renders if render.status.value == "written")
        held = await rows_held_by(database, victim.owner_prefix)
        if written >= min_written and len(held) >= MIN_HELD:
            break
        await asyncio.sleep(0.05)

    victim.kill()
    killed_at = time.monotonic()
    await victim.process.wait()
    return killed_at, await rows_held_by(database, victim.owner_prefix)


async def wait_picked_up(database: Database, owner_prefix: str, max_wait: float) -> float | None:
    """Wait until another daemon has claimed (or finished) every row the victim held."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        if not await rows_held_by(database, owner_prefix):
            return time.monotonic()
        await asyncio.sleep(0.1)
    return None


async def wait_taken_over(database: Database, rows: HeldRows, max_wait: float) -> float | None:
    """Wait until every row in ``rows`` is finished and return that time (None on time-out)."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        if not await unfinished(database, rows):
            return time.monotonic()
        await asyncio.sleep(0.1)
    return None


async def scale_out_run(
    database_url: str, tmp_path: Path, *, products_per_store: int, max_settle: float
) -> ScaleOutResult:
    catalogue = seed_catalogue(products_per_store, "Scale")
    async with start_simulators(catalogue) as sims, AsyncExitStack() as stack:
        text = daemon_config(sims, database_url, free_port(), lease=LEASE)
        settings = write_config(tmp_path / "audit.toml", text, sims)
        originals = await original_images(settings)
        database = Database(database_url)
        stack.push_async_callback(database.aclose)

        daemons = await start_daemons(sims, database_url, tmp_path)
        victim = daemons[VICTIM]
        total_outputs = products_per_store * STORES * OUTPUTS_PER_PRODUCT
        killed_at, held = await kill_while_holding(
            victim, database, min_written=max(total_outputs // 10, 1), max_wait=max_settle
        )
        picked_up_at = await wait_picked_up(database, victim.owner_prefix, max_settle)
        finished_at = await wait_taken_over(database, held, max_settle)
        settled = await wait_settled(database, products_per_store * STORES, max_settle)
        for daemon in daemons:
            if daemon is not victim:
                assert await daemon.stop() == 0, daemon.log_tail()

        work = await events_by_owner(database)
        result = ScaleOutResult(
            await audit(settings, sims, database, originals),
            settled,
            {name_of(owner, daemons): counts for owner, counts in work.items()},
            len(held),
        )
        if picked_up_at is not None:
            result.pickup_seconds = picked_up_at - killed_at
        if finished_at is not None:
            result.takeover_seconds = finished_at - killed_at
        return result


def name_of(owner: str, daemons: list[DaemonProcess]) -> str:
    for number, daemon in enumerate(daemons):
        if owner.startswith(daemon.owner_prefix):
            return f"daemon {number}" + (" (killed)" if number == VICTIM else "")
    return owner


def report(result: ScaleOutResult) -> None:
    print(f"\nscale-out run: {DAEMONS} daemons, lease {LEASE}")
    for name in sorted(result.work):
        counts = result.work[name]
        done = {action: counts[action] for action in WORK_ACTIONS if counts[action]}
        print(f"{name}: {sum(done.values())} steps {done}")
    print(f"rows the killed daemon held: {result.held_at_kill}")
    pickup, takeover = result.pickup_seconds, result.takeover_seconds
    claimed = "never" if pickup is None else f"{pickup:.1f} s after the kill"
    print(f"rows claimed by the others: {claimed}")
    print(f"takeover time: {'not finished' if takeover is None else f'{takeover:.1f} s'}")
    for line in result.audit.lines():
        print(line)


def check(result: ScaleOutResult, products_per_store: int) -> None:
    outputs = products_per_store * STORES * OUTPUTS_PER_PRODUCT
    assert result.settled, f"work still open: {dict(result.audit.stages)}"
    assert all_done(result.audit), dict(result.audit.stages)
    assert result.held_at_kill > 0, "the killed daemon held no lease when it was killed"
    assert result.pickup_seconds is not None, "the others never claimed the killed daemon's rows"
    assert result.takeover_seconds is not None, "the others did not finish the killed daemon's rows"

    assert len(result.work) == DAEMONS, sorted(result.work)
    for name, counts in result.work.items():
        assert sum(counts[action] for action in WORK_ACTIONS) > 0, name

    assert result.audit.duplicate_images == []
    assert result.audit.missing_images == []
    assert result.audit.lost_originals == []
    assert result.audit.written_images == outputs
    assert result.audit.pergai_generations == outputs
    assert result.audit.orphan_generations == []
    assert result.audit.orphan_products == []
    assert result.audit.shared_products == []


async def test_three_daemons_share_work(postgres_database_url: str, tmp_path: Path) -> None:
    result = await scale_out_run(
        postgres_database_url, tmp_path, products_per_store=30, max_settle=60
    )
    report(result)
    check(result, 30)


@slow
@pytest.mark.slow
@pytest.mark.timeout(3600)
async def test_long_three_daemons_share_work(postgres_database_url: str, tmp_path: Path) -> None:
    result = await scale_out_run(
        postgres_database_url, tmp_path, products_per_store=500, max_settle=900
    )
    report(result)
    check(result, 500)
