"""Database URL validation: accepted forms, clear errors, no password in messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.database import mask_url, parse_url
from sync.errors import StorageError


def test_sqlite_short_form_gets_driver(tmp_path: Path) -> None:
    url = parse_url(f"sqlite:///{tmp_path / 'a.db'}")

    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str(tmp_path / "a.db")


@pytest.mark.parametrize(
    "given",
    ["postgresql://u:p@db:5432/sync", "postgres://u:p@db/sync", "postgresql+asyncpg://u@db/sync"],
)
def test_postgres_forms_accepted(given: str) -> None:
    assert parse_url(given).drivername == "postgresql+asyncpg"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("mysql://u:hunter2@db/sync", "unsupported database URL scheme 'mysql'"),
        ("postgresql+psycopg2://u:hunter2@db/sync", "unsupported database URL scheme"),
        ("not a url", "invalid database URL"),
        ("sqlite+aiosqlite://", "names no database file"),
        ("sqlite+aiosqlite:///:memory:", "in-memory"),
        ("postgresql+asyncpg://u:hunter2@db:5432", "names no database"),
        ("sqlite+aiosqlite:////no/such/directory/x.db", "does not exist"),
    ],
)
def test_bad_url_rejected(given: str, expected: str) -> None:
    with pytest.raises(StorageError) as caught:
        parse_url(given)

    message = str(caught.value)
    assert expected in message
    assert "hunter2" not in message


def test_error_lists_accepted_forms() -> None:
    with pytest.raises(StorageError, match=r"sqlite\+aiosqlite:///.*postgresql\+asyncpg://"):
        parse_url("oracle://scott:tiger@db/orcl")


def test_mask_url_hides_password() -> None:
    assert mask_url("postgresql://app:p@ss:w0rd@db/x") == "postgresql://app:***@db/x"
    assert mask_url("postgresql://app:a/b@db/x") == "postgresql://app:***@db/x"
    assert mask_url("sqlite:///x.db") == "sqlite:///x.db"
