"""Alembic environment for the mapping database.

``storage.migrate.upgrade`` passes an open connection in
``config.attributes["connection"]``. Run from the ``alembic`` command line
instead, this file connects to ``sqlalchemy.url`` or, when unset, to
``PERGAI_SYNC_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.database import Database
from storage.types import StrEnumType, UTCDateTime

target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write this package's column types as their plain SQLAlchemy forms in new migrations."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, StrEnumType):
        return "sa.String(length=20)"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=render_item,
        # SQLite cannot alter most columns in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await database.aclose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return

    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "PERGAI_SYNC_DATABASE_URL"
    )
    if not url:
        raise SystemExit("set PERGAI_SYNC_DATABASE_URL to the database to migrate")
    asyncio.run(run_with_own_engine(url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; connect to a database")
main()
