"""Database set-up: URL validation, the async engine, sessions and error translation.

One ``Database`` per process holds one async engine; every query opens a
short-lived session through ``read()`` or ``write()``. SQLite runs in WAL mode
with foreign keys on and a busy timeout, and its write transactions start
with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing
halfway. SQLAlchemy and driver errors leave this module as ``StorageError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.errors import DatabaseInUseError
from sync.errors import StorageError

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite+aiosqlite:///pergai-sync.db"
ACCEPTED_FORMS = (
    "sqlite+aiosqlite:///relative/path.db, sqlite+aiosqlite:////absolute/path.db "
    "or postgresql+asyncpg://user:password@host:5432/database"
)
# Milliseconds a SQLite connection waits for another writer before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "pergai_sqlite_begin"
# Everything between "user:" and the last "@" counts as the password, so a
# password with an unescaped "@" or "/" is still hidden whole.
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:).*@")


def mask_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, for messages and logs."""
    return _PASSWORD_IN_URL.sub(r"\1***@", url)


def parse_url(url: str) -> URL:
    """Validate a database URL and return it with the async driver filled in.

    ``sqlite:///`` and ``postgresql://`` (or ``postgres://``) are accepted as
    short forms of the async drivers. Raises ``StorageError`` naming the
    problem and the accepted forms; the password never appears in it.
    """
    try:
        parsed = make_url(url.strip())
    except ArgumentError as exc:
        raise StorageError(f"invalid database URL {mask_url(url)!r}; use {ACCEPTED_FORMS}") from exc

    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"

    if backend == "sqlite" and driver in ("", "aiosqlite"):
        return _check_sqlite(parsed.set(drivername="sqlite+aiosqlite"), url)
    if backend == "postgresql" and driver in ("", "asyncpg"):
        return _check_postgresql(parsed.set(drivername="postgresql+asyncpg"), url)

    raise StorageError(
        f"unsupported database URL scheme {parsed.drivername!r} in {mask_url(url)!r}; "
        f"use {ACCEPTED_FORMS}"
    )


def _check_sqlite(parsed: URL, original: str) -> URL:
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise StorageError(
            f"SQLite URL {mask_url(original)!r} names no database file; in-memory and URI "
            f"databases are not supported, give a file path: {ACCEPTED_FORMS}"
        )

    directory = Path(database).expanduser().resolve().parent
    if not directory.is_dir():
        raise StorageError(
            f"the directory {str(directory)!r} of SQLite database {database!r} does not exist; "
            "create it or change the [database] url"
        )
    return parsed


def _check_postgresql(parsed: URL, original: str) -> URL:
    if not parsed.database:
        raise StorageError(
            f"PostgreSQL URL {mask_url(original)!r} names no database; use {ACCEPTED_FORMS}"
        )
    return parsed


class Database:
    """The process's connection to the mapping database (SQLite file or PostgreSQL).

    Create one per process and close it with ``aclose()``. ``read()`` and
    ``write()`` yield short-lived sessions; ``write()`` commits at the end of
    the block and, on SQLite, holds the write lock from its first statement.
    """

    def __init__(self, url: str = DEFAULT_URL, *, echo: bool = False) -> None:
        self.url = parse_url(url)
        self.display_url = self.url.render_as_string(hide_password=True)
        self.dialect = self.url.get_backend_name()
        self.engine = self._create_engine(echo)
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        write_engine = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        self._write_sessions = async_sessionmaker(write_engine, expire_on_commit=False)
        # SQLite admits one writer at a time, and a writer that finds the lock taken polls
        # with growing sleeps (up to 100 ms each), so this process's writers queue here.
        self._write_turn = asyncio.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        if not self.is_sqlite or not self.url.database:
            return None
        return Path(self.url.database).expanduser().resolve()

    def _create_engine(self, echo: bool) -> AsyncEngine:
        if not self.is_sqlite:
            return create_async_engine(self.url, echo=echo, pool_pre_ping=True)

        engine = create_async_engine(
            self.url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
        return engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Yield a session for reads; anything it writes is rolled back unless committed."""
        with self.translate_errors():
            async with self._read_sessions() as session:
                yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Yield a session inside one write transaction, committed when the block ends.

        An exception in the block rolls everything back. On SQLite the
        transaction starts with ``BEGIN IMMEDIATE``, so writers are exclusive
        from the first statement and a read-then-update is never interleaved.
        """
        turn = self._write_turn or contextlib.nullcontext()
        with self.translate_errors():
            async with turn, self._write_sessions() as session, session.begin():
                yield session

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn SQLAlchemy and driver errors raised in the block into ``StorageError``."""
        try:
            yield
        except StorageError:
            raise
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StorageError(self._describe(exc)) from exc

    def _describe(self, exc: BaseException) -> str:
        reason = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
        reason = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
        if self.url.password:
            reason = reason.replace(self.url.password, "***")
        return (
            f"database operation failed on {self.display_url}: {reason}; check that the "
            "database is reachable and up to date (`pergai-sync db upgrade`)"
        )

    def lock_for_daemon(self, owner: str) -> DaemonLock:
        """Take the exclusive lock that keeps a second daemon off this SQLite file.

        On PostgreSQL, where several daemons may share the database, returns
        a lock that holds nothing. Raises ``DatabaseInUseError`` when another
        process holds the lock; it is released by ``DaemonLock.release()`` or
        when the process exits.
        """
        path = self.sqlite_path
        if path is None:
            return DaemonLock(None, None)
        return DaemonLock.acquire(Path(f"{path}.lock"), owner)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _configure_sqlite_connection(dbapi_connection: Any, connection_record: Any) -> None:
    # pysqlite's own transaction handling is turned off; _begin_sqlite_transaction
    # emits BEGIN itself, which is what makes BEGIN IMMEDIATE and savepoints work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


class DaemonLock:
    """An exclusive ``flock`` on ``<database file>.lock`` held for the daemon's lifetime."""

    def __init__(self, path: Path | None, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, path: Path, owner: str) -> DaemonLock:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            database = str(path)[: -len(".lock")]
            raise DatabaseInUseError(
                f"database file {database} is in use by another pergai-sync daemon "
                f"({holder}); stop it or use PostgreSQL for several daemons"
            ) from None

        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {owner}\n".encode())
        logger.debug("locked %s for %s", path, owner, extra={"action": "database_lock"})
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None and self.path is not None

    def release(self) -> None:
        """Give the lock back; safe to call twice."""
        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DaemonLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    pid, _, owner = text.partition(" ")
    if not pid.isdigit():
        return "pid unknown"
    return f"pid {pid}, daemon {owner}" if owner else f"pid {pid}"
