"""Apply the Alembic migrations: what `pergai-sync db upgrade` and the daemon's start run."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from storage.database import Database
from sync.errors import StorageError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Return an Alembic configuration that finds the shipped migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """Return the newest migration revision shipped with this version."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(f"no migrations found in {MIGRATIONS_DIR}; reinstall pergai-sync")
    return head


async def upgrade(url: str, revision: str = "head") -> str | None:
    """Migrate the database at ``url`` up to ``revision`` and return the revision it is at.

    Creates the SQLite file when it does not exist yet. Safe to run again: an
    up-to-date database is left as it is. Alembic's synchronous work runs in
    a worker thread with its own event loop, so the caller's loop never waits
    on it. Raises ``StorageError`` when the database cannot be reached or a
    migration fails.
    """
    database = Database(url)
    await database.aclose()
    logger.info(
        "migrating %s to %s", database.display_url, revision, extra={"action": "db_upgrade"}
    )
    current = await asyncio.to_thread(_upgrade_in_thread, url, revision)
    logger.info(
        "database %s is at revision %s",
        database.display_url,
        current,
        extra={"action": "db_upgraded"},
    )
    return current


async def current_revision(url: str) -> str | None:
    """Return the revision the database at ``url`` is at, or None before the first upgrade."""
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            with database.translate_errors():
                return await connection.run_sync(_read_revision)
    finally:
        await database.aclose()


def _upgrade_in_thread(url: str, revision: str) -> str | None:
    return asyncio.run(_upgrade(url, revision))


async def _upgrade(url: str, revision: str) -> str | None:
    database = Database(url)
    try:
        with database.translate_errors():
            async with database.engine.begin() as connection:
                await connection.run_sync(_apply, revision)
                return await connection.run_sync(_read_revision)
    except CommandError as exc:
        raise StorageError(
            f"cannot migrate {database.display_url} to {revision!r}: {exc}; "
            "check that this pergai-sync is not older than the database"
        ) from exc
    finally:
        await database.aclose()


def _apply(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _read_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
