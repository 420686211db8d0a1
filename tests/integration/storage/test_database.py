"""Database set-up against real files and servers: daemon lock, SQLite pragmas, errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import Database
from storage.errors import DatabaseInUseError
from sync.errors import StorageError

HOLD_LOCK = """
import sys
from storage.database import Database
lock = Database(sys.argv[1]).lock_for_daemon("daemon-one")
print("locked", flush=True)
sys.stdin.readline()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_second_daemon_rejected(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        try:
            assert holder.stdout.readline().strip() == "locked"

            with pytest.raises(DatabaseInUseError) as caught:
                Database(url).lock_for_daemon("daemon-two")
        finally:
            holder.stdin.close()
            holder.wait(timeout=10)

    message = str(caught.value)
    assert f"pid {holder.pid}" in message
    assert "shared.db is in use by another pergai-sync daemon" in message
    assert "use PostgreSQL" in message
    with Database(url).lock_for_daemon("daemon-two") as lock:
        assert lock.held


def test_postgres_lock_holds_nothing(postgres_url: str) -> None:
    lock = Database(postgres_url).lock_for_daemon("daemon-one")

    assert not lock.held


async def test_sqlite_pragmas_applied(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with database.read() as session:
            journal = await session.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await session.scalar(text("PRAGMA foreign_keys"))
            busy = await session.scalar(text("PRAGMA busy_timeout"))
    finally:
        await database.aclose()

    assert journal == "wal"
    assert foreign_keys == 1
    assert busy == 30_000


async def test_unreachable_postgres_storage_error() -> None:
    url = f"postgresql+asyncpg://pergai:s3cret-pw@127.0.0.1:{free_port()}/pergai"
    database = Database(url)
    try:
        with pytest.raises(StorageError) as caught:
            async with database.read() as session:
                await session.execute(text("SELECT 1"))
    finally:
        await database.aclose()

    message = str(caught.value)
    assert "database operation failed on postgresql+asyncpg://pergai:***@127.0.0.1" in message
    assert "s3cret-pw" not in message


async def test_missing_tables_storage_error(tmp_path: Path) -> None:
    from storage.repository import Repository

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")
    try:
        with pytest.raises(StorageError, match="pergai-sync db upgrade"):
            await Repository(database).list_stores()
    finally:
        await database.aclose()
