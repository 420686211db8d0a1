"""Fixtures for the Shopify connector against the simulator over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from connectors.retry import RetryPolicy
from connectors.shopify import ShopifyConnector
from simulators.images import encode, product_placeholder
from simulators.server import serve
from simulators.shopify import STATE_KEY, ShopifySettings, ShopifyState, create_app

GENERATION = "0f8b6c1e-3d2a-4b5c-9e7f-112233445566"


@dataclass
class ImageHost:
    """A loopback server standing in for PergAI's result URLs, and a webhook receiver."""

    base_url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def add(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"{self.base_url}/results/{name}?signature=abc"


def image_host_app(host: ImageHost) -> web.Application:
    async def result(request: web.Request) -> web.Response:
        data = host.files.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/png")

    async def webhook(request: web.Request) -> web.Response:
        host.received.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/results/{name}", result)
    app.router.add_post("/webhooks", webhook)
    return app


@dataclass
class Shop:
    state: ShopifyState
    base_url: str
    connector: ShopifyConnector


@pytest.fixture
def settings() -> ShopifySettings:
    return ShopifySettings(seed=7, media_step_delay=0.005, reorder_delay=0.005, bulk_delay=0.005)


@pytest.fixture
async def image_host() -> AsyncIterator[ImageHost]:
    host = ImageHost()
    async with serve(image_host_app(host)) as base_url:
        host.base_url = base_url
        yield host


@pytest.fixture
async def shop(settings: ShopifySettings) -> AsyncIterator[Shop]:
    app = create_app(settings)
    state = app[STATE_KEY]
    async with serve(app) as base_url:
        connector = ShopifyConnector(
            "acme",
            settings.shop,
            settings.access_token,
            webhook_secret=settings.webhook_secret,
            base_url=base_url,
            poll_interval=0.02,
            write_timeout=10,
            retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
        )
        try:
            yield Shop(state, base_url, connector)
        finally:
            await connector.aclose()


def png(name: str = "result", size: int = 256) -> bytes:
    return product_placeholder(name, size=size)


__all__ = ["GENERATION", "ImageHost", "Shop", "encode", "png"]
