"""Fixtures for the end-to-end tests: the three simulators and a database of each kind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import Database
from tests.acceptance.harness import Simulators, start_simulators


async def reset_postgres(url: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await database.aclose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the test PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'pergai-sync.sqlite'}"

    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(reset_postgres(url))
    return url


@pytest.fixture
async def simulators() -> AsyncIterator[Simulators]:
    async with start_simulators() as running:
        yield running
