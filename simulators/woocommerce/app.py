"""The WooCommerce simulator's aiohttp application.

``create_app(settings)`` returns the app; ``app[STATE_KEY]`` is the store
(seed it with ``load_seed`` or ``generate``) and ``app[WEBHOOKS_KEY]`` the
webhook dispatcher (``await idle()`` waits for pending deliveries).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web

from simulators.faults import FAULTS_KEY, fault_middleware
from simulators.server import LOOPBACK
from simulators.woocommerce import collections, listing, products, variations
from simulators.woocommerce.routing import Route, dispatch
from simulators.woocommerce.settings import WooSettings
from simulators.woocommerce.state import WooState
from simulators.woocommerce.webhooks import WebhookDispatcher

STATE_KEY = web.AppKey("woocommerce_state", WooState)
WEBHOOKS_KEY = web.AppKey("woocommerce_webhooks", WebhookDispatcher)
SESSION_KEY = web.AppKey("woocommerce_session", aiohttp.ClientSession)

ITEM_METHODS = ("GET", "PUT", "PATCH", "POST", "DELETE")

ROUTES: list[Route] = [
    (re.compile(r"products"), {"GET": listing.list_products, "POST": products.create_product}),
    (
        re.compile(r"products/batch"),
        dict.fromkeys(("POST", "PUT", "PATCH"), collections.batch_products),
    ),
    (
        re.compile(r"products/categories"),
        {"GET": collections.list_categories, "POST": collections.create_category},
    ),
    (
        re.compile(r"products/(?P<id>\d+)"),
        {
            "GET": products.get_product,
            "PUT": products.update_product,
            "PATCH": products.update_product,
            "POST": products.update_product,
            "DELETE": products.delete_product,
        },
    ),
    (
        re.compile(r"products/(?P<pid>\d+)/variations"),
        {"GET": variations.list_variations, "POST": variations.create_variation},
    ),
    (
        re.compile(r"products/(?P<pid>\d+)/variations/(?P<id>\d+)"),
        {
            "GET": variations.get_variation,
            "PUT": variations.update_variation,
            "PATCH": variations.update_variation,
            "POST": variations.update_variation,
            "DELETE": variations.delete_variation,
        },
    ),
    (
        re.compile(r"webhooks"),
        {"GET": collections.list_webhooks, "POST": collections.create_webhook},
    ),
    (
        re.compile(r"webhooks/(?P<id>\d+)"),
        dict.fromkeys(("PUT", "PATCH", "POST"), collections.update_webhook),
    ),
    (re.compile(r"system_status"), {"GET": collections.system_status}),
]


async def _api(request: web.Request) -> web.Response:
    app = request.app
    return await dispatch(request, ROUTES, app[STATE_KEY], app[WEBHOOKS_KEY], app[SESSION_KEY])


async def _media(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    attachment = state.media_by_path.get(request.path)
    if attachment is None:
        return web.Response(status=404, text="Not Found")
    return web.Response(body=state.media_bytes(attachment), content_type=attachment.content_type)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    session = aiohttp.ClientSession()
    app[SESSION_KEY] = session
    await app[WEBHOOKS_KEY].start()
    yield
    await app[WEBHOOKS_KEY].close()
    await session.close()


def create_app(
    settings: WooSettings | None = None, state: WooState | None = None
) -> web.Application:
    """Build the simulator app; ``state`` lets a caller seed the store before serving."""
    settings = settings or (state.settings if state else WooSettings())
    state = state or WooState(settings)
    app = web.Application(middlewares=[fault_middleware], client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state
    app[FAULTS_KEY] = settings.faults
    app[WEBHOOKS_KEY] = WebhookDispatcher(state)
    app.cleanup_ctx.append(_lifecycle)
    app.router.add_route("*", "/wp-json/wc/v3/{tail:.*}", _api)
    app.router.add_get("/wp-content/uploads/{path:.*}", _media)
    return app


async def run(
    port: int = 8090, catalogue: Path | None = None, settings: WooSettings | None = None
) -> None:
    """Serve the simulator on 127.0.0.1:``port`` until cancelled, printing the URL and keys.

    Raises ``ValueError`` when ``catalogue`` is no product CSV export.
    """
    from simulators.catalogue_csv import read_catalogue_csv

    settings = settings or WooSettings()
    state = WooState(settings)
    if catalogue is not None:
        state.load_seed(read_catalogue_csv(catalogue))
    runner = web.AppRunner(create_app(settings, state), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, port)
    await site.start()

    bound_port = runner.addresses[0][1] if runner.addresses else port
    print(f"WooCommerce simulator at http://{LOOPBACK}:{bound_port}")
    print(f"  consumer key     {settings.consumer_key}")
    print(f"  consumer secret  {settings.consumer_secret}")
    print(f"  read-only key    {settings.read_only_key} / {settings.read_only_secret}")
    print(f"  products         {len(state.products)}")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
