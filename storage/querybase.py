"""What every group of queries shares: the database, the clock and a few statement helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlmodel import SQLModel

from storage.database import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class QueryBase:
    """The database and clock that the query mixins of ``Repository`` use."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self.db = database
        self._clock = clock

    def now(self) -> datetime:
        """Return the repository clock's current time (aware UTC)."""
        return self._clock().astimezone(UTC)

    def insert_if_absent(self, model: type[SQLModel], conflict_columns: Sequence[str]) -> Insert:
        """Return an INSERT of ``model`` that does nothing when ``conflict_columns`` clash."""
        if self.db.is_sqlite:
            return sqlite.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)


def rowcount(result: Result[Any]) -> int:
    """Return how many rows an UPDATE or DELETE touched."""
    return cast(CursorResult[Any], result).rowcount
