"""A PostgreSQL deadlock between daemons is retried, not recorded as a final failure.

Daemons sharing PostgreSQL can deadlock, and PostgreSQL then aborts one of
the transactions. The step it belonged to must run again later. This test
provokes a genuine deadlock between two transactions and checks the verdict.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text

from storage.database import Database
from sync.errors import StorageError
from sync.failures import judge, transient_storage_error


async def lock_in_order(database: Database, first: int, second: int, both: asyncio.Barrier) -> None:
    async with database.write() as session:
        await session.execute(
            text("UPDATE deadlock_rows SET n = n + 1 WHERE id = :id"), {"id": first}
        )
        await both.wait()
        await session.execute(
            text("UPDATE deadlock_rows SET n = n + 1 WHERE id = :id"), {"id": second}
        )


async def provoke_deadlock(url: str) -> StorageError:
    """Run two transactions that lock two rows in opposite order; return the loser's error."""
    database = Database(url)
    try:
        async with database.write() as session:
            await session.execute(text("DROP TABLE IF EXISTS deadlock_rows"))
            await session.execute(text("CREATE TABLE deadlock_rows (id int PRIMARY KEY, n int)"))
            await session.execute(text("INSERT INTO deadlock_rows VALUES (1, 0), (2, 0)"))

        both = asyncio.Barrier(2)
        results = await asyncio.gather(
            lock_in_order(database, 1, 2, both),
            lock_in_order(database, 2, 1, both),
            return_exceptions=True,
        )
    finally:
        await database.aclose()

    errors = [result for result in results if isinstance(result, StorageError)]
    assert len(errors) == 1, results
    return errors[0]


async def test_deadlock_is_retried(postgres_database_url: str) -> None:
    error = await provoke_deadlock(postgres_database_url)

    assert "deadlock detected" in str(error)
    assert transient_storage_error(error)
    verdict = judge(error, attempts=2, now=datetime.now(UTC))
    assert verdict.retry_at is not None


def test_other_storage_error_is_final() -> None:
    verdict = judge(StorageError("database file is read-only"), 1, datetime.now(UTC))

    assert verdict.retry_at is None
