"""Crash safety: SIGKILL the daemon at random and chosen moments, and nothing is lost or doubled.

A real `pergai-sync run` subprocess works through a catalogue in both
simulated stores and is killed again and again. It is killed right after
PergAI stored a product or generation it created (before the daemon could
commit it), right after a store took an image write, and at random times.
After each kill a new daemon starts. At the end every product must be ``done`` with exactly one
image per output on its listing, no original image gone, and every PergAI
product and generation recorded in the database (a create lost to a kill must
be found again and adopted, not made twice).

CI form (about 40 products, 5 kills, SQLite and PostgreSQL)::

    pytest tests/resilience/test_crash.py -s

Long form (500 products, 24 kills), printing the same figures::

    PERGAI_SYNC_SLOW=1 pytest tests/resilience/test_crash.py -s -k long

Each run prints its seed; ``PERGAI_SYNC_CRASH_SEED=<seed>`` repeats its kill times.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.database import Database
from tests.acceptance.harness import free_port, start_simulators, write_config
from tests.resilience.conftest import slow
from tests.resilience.helpers import (
    KILL_MOMENTS,
    OUTPUTS_PER_PRODUCT,
    Audit,
    Kill,
    KillSwitch,
    all_done,
    audit,
    daemon_config,
    original_images,
    read_links_and_renders,
    seed_catalogue,
    start_daemon,
    wait_settled,
)

STORES = 2
# Seconds to wait for a chosen kill moment before killing at that time instead.
EVENT_WAIT = 12.0


@pytest.fixture
def crash_seed() -> int:
    """The seed of the random kill times: PERGAI_SYNC_CRASH_SEED repeats a printed one."""
    chosen = os.environ.get("PERGAI_SYNC_CRASH_SEED")
    return int(chosen) if chosen else random.SystemRandom().randrange(1_000_000)


async def adopted_records(database: Database, kills: list[Kill]) -> tuple[int, int]:
    """Return (creates cut off by a kill, of those found again and recorded in the database)."""
    links, renders = await read_links_and_renders(database)
    recorded = {link.pergai_product_id for link in links} | {r.generation_id for r in renders}
    cut = [kill for kill in kills if kill.record_id is not None]
    return len(cut), sum(1 for kill in cut if kill.record_id in recorded)


@dataclass
class CrashResult:
    audit: Audit
    kills: list[Kill]
    settled: bool
    # Creates a kill cut off before their commit, and how many of them were adopted later.
    cut_creates: int = 0
    adopted: int = 0


async def crash_run(
    database_url: str, tmp_path: Path, *, products: int, kills: int, seed: int, max_settle: float
) -> CrashResult:
    """Run the catalogue through ``kills`` SIGKILLs and a final daemon, then audit the result."""
    rng = random.Random(seed)
    async with start_simulators(seed_catalogue(products)) as sims, AsyncExitStack() as stack:
        config = tmp_path / "pergai-sync.toml"
        settings = write_config(config, daemon_config(sims, database_url, free_port()), sims)
        originals = await original_images(settings)
        database = Database(database_url)
        stack.push_async_callback(database.aclose)
        switch = KillSwitch(sims)
        log = tmp_path / "daemon.log"

        for number in range(kills):
            daemon = await start_daemon(config, sims, log)
            moment = KILL_MOMENTS[number % len(KILL_MOMENTS)]
            await switch.kill_at(daemon, moment, max_wait=EVENT_WAIT, rng=rng)

        final = await start_daemon(config, sims, log)
        settled = await wait_settled(database, products * STORES, max_settle)
        assert await final.stop() == 0, final.log_tail()

        result = CrashResult(
            await audit(settings, sims, database, originals), switch.kills, settled
        )
        result.cut_creates, result.adopted = await adopted_records(database, switch.kills)
        return result


def report(result: CrashResult, seed: int) -> None:
    audit = result.audit
    print(f"\ncrash run (seed {seed})")
    print(f"kills survived: {len(result.kills)} {dict(Counter(k.moment for k in result.kills))}")
    print(f"creates cut off by a kill: {result.cut_creates}, adopted afterwards: {result.adopted}")
    for line in audit.lines():
        print(line)
    details = (
        audit.duplicate_images
        + audit.missing_images
        + audit.lost_originals
        + audit.orphan_products
        + audit.orphan_generations
    )
    for detail in details[:20]:
        print("  ", detail)


def check(result: Audit, products: int, settled: bool) -> None:
    assert settled, f"work still open: {dict(result.stages)}"
    assert all_done(result), dict(result.stages)
    assert result.links == products * STORES
    assert result.duplicate_images == []
    assert result.missing_images == []
    assert result.lost_originals == []
    assert result.written_images == products * STORES * OUTPUTS_PER_PRODUCT
    assert result.orphan_products == []
    assert result.shared_products == []
    assert result.orphan_generations == []
    assert result.pergai_generations == products * STORES * OUTPUTS_PER_PRODUCT


async def run_and_check(
    database_url: str, tmp_path: Path, *, products: int, kills: int, seed: int, max_settle: float
) -> None:
    result = await crash_run(
        database_url, tmp_path, products=products, kills=kills, seed=seed, max_settle=max_settle
    )
    report(result, seed)

    assert len(result.kills) == kills
    assert result.adopted == result.cut_creates
    check(result.audit, products, result.settled)


async def test_kills_lose_nothing(database_url: str, tmp_path: Path, crash_seed: int) -> None:
    await run_and_check(
        database_url, tmp_path, products=40, kills=5, seed=crash_seed, max_settle=60
    )


@slow
@pytest.mark.slow
@pytest.mark.timeout(3600)
async def test_long_kills_lose_nothing(database_url: str, tmp_path: Path, crash_seed: int) -> None:
    await run_and_check(
        database_url, tmp_path, products=500, kills=24, seed=crash_seed, max_settle=900
    )
