"""A WooCommerce simulator, an image origin and connectors wired to them over loopback."""

from __future__ import annotations

import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from connectors.retry import RetryPolicy
from connectors.woocommerce import WooCommerceConnector
from simulators.catalogue import SeedImage, SeedProduct, SeedVariant
from simulators.images import product_placeholder, scene_render
from simulators.server import serve
from simulators.woocommerce import STATE_KEY, WEBHOOKS_KEY, WooSettings, WooState, create_app
from simulators.woocommerce.webhooks import WebhookDispatcher

WEBHOOK_SECRET = "hook-secret-&amp;-ünï"
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.02, max_delay=0.1)


def seed_catalogue() -> list[SeedProduct]:
    return [
        SeedProduct(
            title="Hoodie with Logo",
            sku="woo-hoodie-with-logo",
            price="45",
            categories=[["Clothing", "Hoodies"]],
            tags=["warm"],
            images=[SeedImage("hoodie-with-logo-2.jpg", alt="Hoodie photo")],
        ),
        SeedProduct(
            title="V-Neck T-Shirt",
            kind="variable",
            sku="woo-vneck-tee",
            categories=[["Clothing", "Tshirts"]],
            images=[SeedImage("vneck-tee-2.jpg"), SeedImage("vnech-tee-green-1.jpg")],
            variants=[
                SeedVariant(
                    "Red",
                    sku="vneck-red",
                    price="20",
                    options={"Color": "Red"},
                    image=SeedImage("vneck-tee-red.jpg"),
                ),
                SeedVariant("Blue", sku="vneck-blue", price="15", options={"Color": "Blue"}),
            ],
        ),
        SeedProduct(
            title="Kahve Fincanı ☕ Çay – «خاص»",
            sku="kahve",
            price="12",
            categories=[["Ev & Yaşam", "Mutfak"]],
            images=[SeedImage("fincan.png")],
        ),
    ]


@dataclass
class Store:
    url: str
    state: WooState
    settings: WooSettings
    webhooks: WebhookDispatcher
    app: web.Application


@dataclass
class Origin:
    """Serves finished images (real PNG bytes) and a few bad ones."""

    url: str
    hits: dict[str, int] = field(default_factory=dict)

    def result_url(self, generation_id: str | None = None) -> tuple[str, str]:
        generation_id = generation_id or str(uuid.uuid4())
        return f"{self.url}/results/{generation_id}.png", generation_id


@pytest.fixture
def woo_settings() -> WooSettings:
    return WooSettings(site_timezone="Europe/Istanbul", webhook_delay=0.05)


@pytest.fixture
async def store(woo_settings: WooSettings) -> AsyncIterator[Store]:
    state = WooState(woo_settings)
    state.load_seed(seed_catalogue())
    app = create_app(woo_settings, state)
    async with serve(app) as url:
        yield Store(url, app[STATE_KEY], woo_settings, app[WEBHOOKS_KEY], app)


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    hits: dict[str, int] = {}
    render = scene_render(product_placeholder("result"), "studio")

    async def result(request: web.Request) -> web.Response:
        hits[request.path] = hits.get(request.path, 0) + 1
        return web.Response(body=render, content_type="image/png")

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="not an image", content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/results/{name}", result)
    app.router.add_get("/noext/{name}", result)
    app.router.add_get("/fake/{name}", text)
    async with serve(app) as url:
        yield Origin(url, hits)


def make_connector(url: str, settings: WooSettings, **options: object) -> WooCommerceConnector:
    defaults: dict[str, object] = {
        "webhook_secret": WEBHOOK_SECRET,
        "retry": FAST_RETRY,
        "timeout": 10.0,
    }
    defaults.update(options)
    return WooCommerceConnector(
        "acme",
        url,
        settings.consumer_key,
        settings.consumer_secret,
        **defaults,  # type: ignore[arg-type]
    )


@pytest.fixture
async def connector(store: Store) -> AsyncIterator[WooCommerceConnector]:
    woo = make_connector(store.url, store.settings)
    yield woo
    await woo.aclose()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    yield cert, key


@pytest.fixture
async def tls_store(tls_files: tuple[Path, Path]) -> AsyncIterator[Store]:
    """The simulator served over real TLS on loopback, so Basic and query-string auth apply."""
    settings = WooSettings(https=True)
    state = WooState(settings)
    state.load_seed(seed_catalogue())
    app = create_app(settings, state)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Store(f"https://127.0.0.1:{port}", state, settings, app[WEBHOOKS_KEY], app)
    finally:
        await runner.cleanup()
