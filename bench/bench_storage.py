"""Measure the mapping database's claim and webhook-inbox rates against bare statements.

Usage: python bench/bench_storage.py [--postgres URL] [--rows N]

Runs on a temporary SQLite file and, with ``--postgres``, on a temporary
database created next to the one the URL names. That database is dropped at
the end, and the role needs the CREATEDB privilege. Each figure is printed
next to a baseline measured in the same run on the same database, and as a
ratio to it:

- claims/s: ``Repository.claim_links`` taking one due link per call, by one
  claimer and by 8 concurrent claimers; baseline: a bare one-row UPDATE that
  sets the lease by primary key, one transaction each.
- inbox inserts/s: ``Repository.record_delivery``; baseline: a bare INSERT of
  the same row, one transaction each.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import InboxDelivery, ProductLink, Stage  # noqa: E402
from storage.repository import Repository  # noqa: E402

BODY = b'{"id": 1, "title": "Kap\xc3\xbc\xc5\x9fonlu", "updated_at": "2024-05-01T12:00:00Z"}'
CLAIMERS = 8


async def timed(label: str, count: int, work: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    print(f"  {label:<44} {rate:>9.0f}/s  ({count} in {elapsed:.2f} s)")
    return rate


async def add_links(database: Database, store_id: int, count: int, prefix: str) -> list[int]:
    now = datetime.now(UTC) - timedelta(seconds=1)
    rows = [
        {
            "store_id": store_id,
            "product_id": f"{prefix}{number}",
            "variant_id": "",
            "title": "Hoodie",
            "category_path": "",
            "tags": [],
            "store_status": "active",
            "store_updated_at": now,
            "stage": Stage.DISCOVERED,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for number in range(count)
    ]
    async with database.write() as session:
        result = await session.execute(
            insert(ProductLink).returning(ProductLink.id),  # type: ignore[arg-type]
            rows,
        )
        return [int(link_id) for link_id in result.scalars()]


async def bench_claims(database: Database, repo: Repository, store_id: int, rows: int) -> None:
    baseline_ids = await add_links(database, store_id, rows, "base-")

    async def bare_updates() -> None:
        expires = datetime.now(UTC) + timedelta(minutes=5)
        for link_id in baseline_ids:
            async with database.write() as session:
                await session.execute(
                    update(ProductLink)
                    .where(ProductLink.id == link_id)  # type: ignore[arg-type]
                    .values(lease_owner="bench", lease_expires_at=expires)
                )

    baseline = await timed("baseline: bare one-row lease UPDATE", rows, bare_updates)

    await add_links(database, store_id, rows, "one-")

    async def claim_alone() -> None:
        for _ in range(rows):
            claimed = await repo.claim_links("one", [Stage.DISCOVERED], limit=1, lease_seconds=300)
            assert len(claimed) == 1

    single = await timed("claim_links, 1 claimer, 1 row a claim", rows, claim_alone)

    await add_links(database, store_id, rows, "many-")
    claimers = [Repository(Database(database.url.render_as_string(False))) for _ in range(CLAIMERS)]

    async def drain(number: int, claimer: Repository) -> None:
        for _ in range(rows):  # bounded: together the claimers take `rows` rows
            claimed = await claimer.claim_links(
                f"c{number}", [Stage.DISCOVERED], limit=1, lease_seconds=300
            )
            if not claimed:
                return

    async def claim_together() -> None:
        await asyncio.gather(*(drain(n, c) for n, c in enumerate(claimers)))

    together = await timed(f"claim_links, {CLAIMERS} claimers, 1 row a claim", rows, claim_together)
    for claimer in claimers:
        await claimer.db.aclose()

    print(
        f"  ratio to baseline: 1 claimer {single / baseline:.2f}, "
        f"{CLAIMERS} claimers {together / baseline:.2f}"
    )


async def bench_inbox(database: Database, repo: Repository, store_id: int, rows: int) -> None:
    async def bare_inserts() -> None:
        for number in range(rows):
            async with database.write() as session:
                await session.execute(
                    insert(InboxDelivery).values(
                        store_id=store_id,
                        platform="shopify",
                        delivery_key=f"base-{number}",
                        topic="products/update",
                        received_at=datetime.now(UTC),
                        body=BODY,
                    )
                )

    baseline = await timed("baseline: bare INSERT of the same row", rows, bare_inserts)

    async def record() -> None:
        for number in range(rows):
            await repo.record_delivery(
                store_id, "shopify", f"evt-{number}", "products/update", BODY
            )

    recorded = await timed("record_delivery (new keys)", rows, record)
    print(f"  ratio to baseline: {recorded / baseline:.2f}")


async def run(label: str, url: str, rows: int) -> None:
    print(f"{label}: {Database(url).display_url}")
    await upgrade(url)
    database = Database(url)
    try:
        repo = Repository(database)
        store = await repo.ensure_store("bench", "shopify", "bench.myshopify.com")
        assert store.id is not None
        await bench_claims(database, repo, store.id, rows)
        await bench_inbox(database, repo, store.id, rows)
    finally:
        await database.aclose()


async def with_scratch_postgres(url: str, rows: int) -> None:
    """Run on a new database beside the one ``url`` names, and drop it afterwards."""
    admin = Database(url)
    name = f"pergai_bench_{uuid.uuid4().hex[:8]}"
    scratch = make_url(admin.url.render_as_string(False)).set(database=name)
    autocommit = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with autocommit.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            await run("PostgreSQL", scratch.render_as_string(False), rows)
        finally:
            async with autocommit.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="postgresql+asyncpg:// URL; a scratch database is made")
    parser.add_argument(
        "--rows", type=int, default=1000, help="rows per measurement (default 1000)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        await run("SQLite", f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}", args.rows)
    if args.postgres:
        await with_scratch_postgres(args.postgres, args.rows)


if __name__ == "__main__":
    asyncio.run(main())
