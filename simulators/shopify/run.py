"""Run the Shopify simulator in the foreground until cancelled (``pergai-sync simulate``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from simulators.server import serve
from simulators.shopify.app import STATE_KEY, create_app
from simulators.shopify.csv_import import read_catalogue
from simulators.shopify.settings import ShopifySettings


async def run(
    settings: ShopifySettings | None = None,
    *,
    port: int = 0,
    catalogue: Path | None = None,
    generate: int = 0,
    announce: Callable[[str], None] = lambda line: print(line, flush=True),
) -> None:
    """Serve the simulator on 127.0.0.1:``port``, print its URL, shop and token, and wait."""
    settings = settings or ShopifySettings()
    app = create_app(settings)
    state = app[STATE_KEY]
    if catalogue is not None:
        state.load_seed(read_catalogue(catalogue))
    if generate:
        state.generate(generate)

    async with serve(app, port) as base_url:
        announce(f"Shopify simulator at {base_url}")
        announce(f"shop: {settings.domain}  token: {settings.access_token}")
        announce(f"webhook secret: {settings.webhook_secret}")
        announce(f"products: {len(state.catalogue.products)}")
        await asyncio.Event().wait()
