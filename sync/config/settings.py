"""The whole config file as typed settings.

The file has the tables `[pergai]`, `[database]`, `[server]`, `[daemon]`
and `[[stores]]`.

Durations are float seconds, secrets are ``EnvSecret`` values, and the
database URL is absolute and names an async driver, so the engine uses the
values as they are.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sync.config.fields import (
    AspectRatio,
    ConfigModel,
    Duration,
    HttpUrl,
    LocatedProblem,
    NonEmptyStr,
    SecureUrl,
    invalid,
    invalid_many,
)
from sync.config.secrets import SecretRef, context_config_dir, expand_env_references
from sync.config.stores import StoreConfig, find_duplicates
from sync.errors import ConfigError

DEFAULT_PERGAI_URL = "https://pergai.com/api/external/v1"
DEFAULT_DATABASE_FILE = "pergai-sync.sqlite"
MIB = 1024 * 1024

# Drivers written without an async driver name are given the one this service uses.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class PergaiSettings(ConfigModel):
    """`[pergai]`: the API account and the defaults for scene outputs."""

    api_key: SecretRef
    base_url: SecureUrl = DEFAULT_PERGAI_URL
    # Defaults for scene outputs that leave them unset; None lets PergAI choose.
    ai_provider: NonEmptyStr | None = None
    aspect_ratio: AspectRatio | None = None
    timeout: Duration = 60.0
    max_concurrency: int = Field(default=4, ge=1)
    create_categories: bool = False
    delete_products_on_store_delete: bool = False


class DatabaseSettings(ConfigModel):
    """`[database]`: the mapping database URL (may contain `${VAR}` references)."""

    # repr=False because a PostgreSQL URL may carry a password.
    url: str = Field(repr=False)

    @model_validator(mode="before")
    @classmethod
    def _default_url(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and "url" not in data:
            path = context_config_dir(info) / DEFAULT_DATABASE_FILE
            return {**data, "url": f"sqlite+aiosqlite:///{path}"}

        return data

    @field_validator("url")
    @classmethod
    def _normalize_url(cls, value: str, info: ValidationInfo) -> str:
        text = expand_env_references(value, info)
        try:
            url = make_url(text)
        except ArgumentError:
            raise invalid(
                "invalid database URL; expected sqlite+aiosqlite:///path/to/file.sqlite "
                "or postgresql+asyncpg://user@host/database"
            ) from None

        return _render_url(_async_url(url, context_config_dir(info)), text)

    @property
    def display_url(self) -> str:
        """The URL with any password masked, for logs and status output."""
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def _async_url(url: URL, config_dir: Path) -> URL:
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise invalid(
            f"unsupported database driver {url.drivername!r}; allowed: sqlite+aiosqlite, "
            "postgresql+asyncpg"
        )

    url = url.set(drivername=driver)
    database = url.database
    if driver.startswith("sqlite") and database and database != ":memory:":
        path = Path(database).expanduser()
        if not path.is_absolute() and not database.startswith("file:"):
            url = url.set(database=str(config_dir / path))

    return url


def _render_url(url: URL, written: str) -> str:
    if not url.drivername.startswith("sqlite"):
        return url.render_as_string(hide_password=False)

    # SQLAlchemy would percent-encode the path (':memory:', non-ASCII folder
    # names); SQLite URLs carry no password, so the path is written as is.
    query = written.partition("?")[2]
    return f"{url.drivername}:///{url.database or ''}" + (f"?{query}" if query else "")


class ServerSettings(ConfigModel):
    """`[server]`: where the webhook server listens and the URL stores call it at."""

    host: NonEmptyStr = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Public https URL that reaches this server; webhook registration needs it.
    public_url: HttpUrl | None = None
    max_body_bytes: int = Field(default=5 * MIB, ge=1024)

    def webhook_url(self, platform: str, store_name: str) -> str | None:
        """Return the callback URL to register for a store, or None without `public_url`."""
        if self.public_url is None:
            return None

        return f"{self.public_url}/webhooks/{platform}/{store_name}"


class DaemonSettings(ConfigModel):
    """`[daemon]`: timer intervals, leases and limits of `pergai-sync run`, durations in seconds."""

    drain_interval: Duration = 5.0
    job_check_interval: Duration = 15.0
    reconcile_interval: Duration = 86400.0
    inbox_retention: Duration = 7 * 86400.0
    lease: Duration = 120.0
    # First wait before a failed step is tried again; each further failure doubles it.
    retry_base_delay: Duration = 10.0
    concurrency_per_store: int = Field(default=2, ge=1)
    shutdown_grace: Duration = 30.0
    log_format: Literal["text", "json"] = "text"


class Settings(ConfigModel):
    """The validated config file."""

    pergai: PergaiSettings
    database: DatabaseSettings
    server: ServerSettings = Field(default_factory=ServerSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    stores: list[StoreConfig]

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _default_database(cls, data: Any) -> Any:
        # An absent [database] table still gets its default URL, which needs the config folder.
        if isinstance(data, dict) and "database" not in data:
            return {**data, "database": {}}

        return data

    @field_validator("stores")
    @classmethod
    def _require_stores(cls, stores: list[StoreConfig]) -> list[StoreConfig]:
        if not stores:
            raise invalid("no stores; add at least one [[stores]] table")

        return stores

    @model_validator(mode="after")
    def _complete(self) -> Self:
        problems = duplicate_store_problems([store.name for store in self.stores])
        if problems:
            raise invalid_many(problems)

        for store in self.stores:
            for output in store.outputs:
                if output.scene is not None:
                    output.ai_provider = output.ai_provider or self.pergai.ai_provider
                    output.aspect_ratio = output.aspect_ratio or self.pergai.aspect_ratio

        return self

    @property
    def path(self) -> Path | None:
        """The file these settings were loaded from, when they came from a file."""
        return self._path

    def store(self, name: str) -> StoreConfig:
        """Return the store called ``name``, raising ConfigError with the known names otherwise."""
        for store in self.stores:
            if store.name == name:
                return store

        names = [store.name for store in self.stores]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"no store named {name!r} in the config; stores: {', '.join(names)}{hint}"
        )


def duplicate_store_problems(names: Sequence[object]) -> list[LocatedProblem]:
    """Return one problem per store whose name an earlier store already uses."""
    return [
        (
            ("stores", index, "name"),
            f"duplicate store name {names[index]!r}: stores[{first}] already uses it; "
            "each store needs its own name because it appears in webhook URLs",
        )
        for index, first in find_duplicates(names)
    ]
