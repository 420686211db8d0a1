"""Migrations: an empty database migrates to head and then matches the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage.database import Database
from storage.migrate import current_revision, head_revision, upgrade
from tests.integration.storage.conftest import _reset_postgres


def schema_drift(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    url: str = request.getfixturevalue("postgres_url")
    await _reset_postgres(url)
    return url


async def test_upgrade_from_empty_no_drift(empty_url: str) -> None:
    assert await current_revision(empty_url) is None

    revision = await upgrade(empty_url)

    database = Database(empty_url)
    try:
        async with database.engine.connect() as connection:
            drift = await connection.run_sync(schema_drift)
            tables = await connection.run_sync(table_names)
    finally:
        await database.aclose()
    assert revision == head_revision()
    assert drift == []
    assert {table.name for table in SQLModel.metadata.sorted_tables} <= tables


async def test_upgrade_twice_is_harmless(empty_url: str) -> None:
    first = await upgrade(empty_url)
    second = await upgrade(empty_url)

    assert first == second == await current_revision(empty_url)
