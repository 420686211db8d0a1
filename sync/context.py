"""The context every pipeline step needs: settings, database, clients, connectors, clock."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors.base import StoreConnector
from connectors.pergai import PergaiClient
from storage.repository import Repository
from sync.config.settings import Settings
from sync.config.stores import StoreBase
from sync.metrics import Metrics


def daemon_owner() -> str:
    """Return a lease owner id unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StoreRuntime:
    """A configured store with its connector, database id and concurrency limit."""

    config: StoreBase
    connector: StoreConnector
    store_id: int
    semaphore: asyncio.Semaphore

    @property
    def name(self) -> str:
        return self.config.name


@dataclass
class Context:
    settings: Settings
    repo: Repository
    pergai: PergaiClient
    stores: dict[str, StoreRuntime]
    owner: str = field(default_factory=daemon_owner)
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = utc_now

    def store_by_id(self, store_id: int) -> StoreRuntime:
        for runtime in self.stores.values():
            if runtime.store_id == store_id:
                return runtime
        raise KeyError(store_id)

    @property
    def lease_seconds(self) -> float:
        return self.settings.daemon.lease
