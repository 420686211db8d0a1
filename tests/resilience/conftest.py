"""Fixtures of the resilience suites: an empty database of each kind, and the slow-test switch."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.acceptance.conftest import reset_postgres

SLOW_ENV = "PERGAI_SYNC_SLOW"

slow = pytest.mark.skipif(
    os.environ.get(SLOW_ENV) != "1", reason=f"long resilience run; set {SLOW_ENV}=1 to run it"
)


def empty_postgres(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(reset_postgres(url))
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the test PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'pergai-sync.sqlite'}"
    return empty_postgres(request)


@pytest.fixture
def postgres_database_url(request: pytest.FixtureRequest) -> str:
    """The test PostgreSQL database, emptied; several daemons can share it."""
    return empty_postgres(request)
