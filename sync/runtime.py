"""Build a running context from the settings: database, PergAI client, one connector per store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from connectors.base import StoreConnector
from connectors.pergai import PergaiClient
from storage.database import Database
from storage.migrate import upgrade
from storage.repository import Repository
from sync.config.settings import Settings
from sync.config.stores import ShopifyStore, StoreBase, WooCommerceStore
from sync.context import Context, StoreRuntime
from sync.metrics import Metrics


def secret(value: object | None) -> str:
    """Return a secret's plain value for a client constructor (never for logs)."""
    if value is None:
        return ""
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value)


def platform_of(config: StoreBase) -> str:
    return "shopify" if isinstance(config, ShopifyStore) else "woocommerce"


def make_connector(config: StoreBase) -> StoreConnector:
    """Create the store connector the config's platform names."""
    if isinstance(config, ShopifyStore):
        from connectors.shopify import ShopifyConnector

        return ShopifyConnector(
            config.name,
            config.address,
            secret(config.access_token),
            api_version=config.api_version,
            webhook_secret=secret(config.webhook_secret),
            base_url=config.base_url,
            timeout=config.timeout,
        )

    assert isinstance(config, WooCommerceStore)
    from connectors.woocommerce import WooCommerceConnector

    return WooCommerceConnector(
        config.name,
        config.address,
        secret(config.consumer_key),
        secret(config.consumer_secret),
        webhook_secret=secret(config.webhook_secret),
        query_string_auth=config.query_string_auth,
        timeout=config.timeout,
    )


def make_pergai(settings: Settings) -> PergaiClient:
    return PergaiClient(
        settings.pergai.base_url,
        secret(settings.pergai.api_key),
        timeout=settings.pergai.timeout,
        max_concurrency=settings.pergai.max_concurrency,
    )


@asynccontextmanager
async def open_context(
    settings: Settings, *, owner: str | None = None, metrics: Metrics | None = None
) -> AsyncIterator[Context]:
    """Open the database, the PergAI client and every store connector; close them on exit.

    Applies pending migrations first, so every command works on a new database.
    """
    await upgrade(settings.database.url)
    async with AsyncExitStack() as stack:
        database = Database(settings.database.url)
        stack.push_async_callback(database.aclose)
        repo = Repository(database)

        pergai = make_pergai(settings)
        stack.push_async_callback(pergai.aclose)

        stores: dict[str, StoreRuntime] = {}
        for config in settings.stores:
            connector = make_connector(config)
            stack.push_async_callback(connector.aclose)
            row = await repo.ensure_store(config.name, platform_of(config), config.address)
            assert row.id is not None
            limit = asyncio.Semaphore(settings.daemon.concurrency_per_store)
            stores[config.name] = StoreRuntime(config, connector, row.id, limit)

        ctx = Context(settings, repo, pergai, stores, metrics=metrics or Metrics())
        if owner:
            ctx.owner = owner
        yield ctx
