"""Fixtures that run every storage test on a SQLite file and on PostgreSQL.

The schema is migrated once per session: SQLite tests copy a migrated
template file, PostgreSQL tests empty every table before they start.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.base import CatalogueItem, StoreImage
from storage.database import Database
from storage.migrate import upgrade
from storage.models import Store
from storage.repository import Repository

TABLES = "events, renders, webhook_inbox, category_links, daily_usage, product_links, stores"


@dataclass
class MovableClock:
    """A clock the test moves by hand, so lease expiry needs no sleeping."""

    current: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str) -> str:
    asyncio.run(_reset_postgres(postgres_url))
    asyncio.run(upgrade(postgres_url))
    return postgres_url


async def _reset_postgres(url: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await database.aclose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, or the test PostgreSQL database."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "pergai-sync.db"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"

    url: str = request.getfixturevalue("migrated_postgres")
    asyncio.run(_empty_postgres(url))
    return url


async def _empty_postgres(url: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    finally:
        await database.aclose()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.aclose()


@pytest.fixture
def repo(db: Database, clock: MovableClock) -> Repository:
    return Repository(db, clock=clock)


@pytest.fixture
async def store(repo: Repository) -> Store:
    return await repo.ensure_store("acme", "shopify", "acme.myshopify.com")


@pytest.fixture
async def open_repositories(
    database_url: str, clock: MovableClock
) -> AsyncIterator[Callable[[int], list[Repository]]]:
    """Open ``n`` repositories, each with its own engine, like ``n`` separate daemons."""
    opened: list[Database] = []

    def open_many(n: int) -> list[Repository]:
        databases = [Database(database_url) for _ in range(n)]
        opened.extend(databases)
        return [Repository(database, clock=clock) for database in databases]

    yield open_many
    for database in opened:
        await database.aclose()


def make_item(
    product_id: str = "p1",
    *,
    title: str = "Hoodie",
    updated_at: datetime | None = None,
    image_id: str | None = "img-1",
    image_url: str = "https://cdn.example.com/p1.png",
    **extra: object,
) -> CatalogueItem:
    """Build a catalogue item with one source image (none when ``image_id`` is None)."""
    images = () if image_id is None else (StoreImage(image_id, image_url),)
    return CatalogueItem(
        product_id=product_id,
        title=title,
        updated_at=updated_at or datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        status="active",
        images=images,
        **extra,  # type: ignore[arg-type]
    )
