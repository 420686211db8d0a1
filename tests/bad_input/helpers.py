"""A daemon served in-process on a SQLite file, and signed webhook bodies to send it.

Every bad-input case runs against ``RunningDaemon``: the three simulators on
loopback, a config written by the acceptance harness, a real ``Context`` and
the daemon's own webhook server. ``assert_still_serving`` is the check each
case ends with: the health check answers 200 and a good delivery is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

from simulators.catalogue import SeedImage, SeedProduct
from simulators.pergai.state import GenerationRecord, PergaiState, StoredFile
from simulators.shopify.webhooks import product_payload, shopify_json
from simulators.woocommerce.render import product_json
from storage.migrate import upgrade
from storage.models import ProductLink, Render
from sync.config.settings import Settings
from sync.context import Context, StoreRuntime
from sync.daemon import Daemon
from sync.discovery import poll_store
from sync.progress import open_work_count
from sync.runtime import open_context
from tests.acceptance.harness import (
    WEBHOOK_SECRET,
    Simulators,
    config_text,
    free_port,
    start_simulators,
    write_config,
)

SHOPIFY_PATH = "/webhooks/shopify/shop"
WOOCOMMERCE_PATH = "/webhooks/woocommerce/woo"


def hmac_base64(secret: str, body: bytes) -> str:
    """Sign ``body`` the way both platforms do: base64 of HMAC-SHA256 keyed with ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def product(title: str, *, images: int = 1, category: str = "Hoodies") -> SeedProduct:
    """A simple product with ``images`` drawn images in one category."""
    return SeedProduct(
        title=title,
        price="10.00",
        categories=[["Clothing", category]],
        images=[
            SeedImage(f"{title[:8].encode('ascii', 'ignore').decode() or 'p'}-{i}.png")
            for i in range(images)
        ],
    )


def sparse_png(width: int, height: int) -> bytes:
    """Encode a blank RGB PNG of ``width`` x ``height``: many pixels, few bytes."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


@dataclass
class RunningDaemon:
    """The simulators, the loaded settings, an open context and the daemon's server URL."""

    sims: Simulators
    settings: Settings
    ctx: Context
    daemon: Daemon
    url: str
    http: aiohttp.ClientSession
    probes: int = 0
    accepted: list[str] = field(default_factory=list)

    def store(self, name: str) -> StoreRuntime:
        return self.ctx.stores[name]

    async def post(
        self, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any] | str]:
        async with self.http.post(self.url + path, data=body, headers=dict(headers)) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def inbox_keys(self) -> list[str]:
        rows = await self.ctx.repo.unprocessed_deliveries(limit=10_000)
        return [row.delivery_key for row in rows]

    async def links(self, store: str) -> list[ProductLink]:
        store_id = self.store(store).store_id
        found: list[ProductLink] = []
        for product_id in await self.ctx.repo.live_product_ids(store_id):
            found.extend(await self.ctx.repo.links_of_product(store_id, product_id))
        return found

    async def link(self, store: str, product_id: str) -> ProductLink:
        found = await self.ctx.repo.find_link(self.store(store).store_id, product_id)
        assert found is not None, f"no link for {store} product {product_id}"
        return found

    async def renders(self, link: ProductLink) -> list[Render]:
        assert link.id is not None
        return await self.ctx.repo.renders_of_link(link.id, link.source_fingerprint)

    async def poll(self, *, full: bool = False) -> None:
        for store in self.ctx.stores.values():
            await poll_store(self.ctx, store, full=full)

    async def settle(self, max_wait: float = 45.0) -> None:
        """Poll every store once, then run engine rounds until no work is open."""
        await self.poll()
        deadline = time.monotonic() + max_wait
        while time.monotonic() < deadline:
            steps = await self.daemon.engine.run_due()
            if await open_work_count(self.ctx.repo) == 0:
                return
            if steps == 0:
                await asyncio.sleep(0.1)
        raise AssertionError(f"work still open after {max_wait} s")

    # Good deliveries

    def shopify_delivery(
        self, product_id: int | None = None, *, event_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A signed products/update delivery of a simulator product, as Shopify sends it."""
        state = self.sims.shopify_state
        chosen = state.catalogue.products[product_id or min(state.catalogue.products)]
        body = shopify_json(product_payload(chosen, state))
        return body, self.shopify_headers(body, event_id=event_id)

    def shopify_headers(
        self, body: bytes, *, topic: str = "products/update", event_id: str | None = None
    ) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": hmac_base64(self.sims.shopify.webhook_secret, body),
            "X-Shopify-Shop-Domain": "pergai-test.myshopify.com",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        }

    def woo_payload(self, product_id: int | None = None) -> dict[str, Any]:
        state = self.sims.woocommerce_state
        chosen = state.products[product_id or min(state.products)]
        return product_json(state, chosen, state.home_url)

    def woo_delivery(
        self, payload: dict[str, Any] | None = None, *, unique: bool = True
    ) -> tuple[bytes, dict[str, str]]:
        """A signed product.updated delivery; ``unique`` gives it a modified time of its own."""
        payload = dict(payload if payload is not None else self.woo_payload())
        if unique:
            self.probes += 1
            payload["date_modified_gmt"] = (
                f"2020-01-01T00:{self.probes // 60:02d}:{self.probes % 60:02d}"
            )
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return body, self.woo_headers(body)

    def woo_headers(self, body: bytes, *, topic: str = "product.updated") -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": "product",
            "X-WC-Webhook-Event": topic.split(".")[-1],
            "X-WC-Webhook-Signature": hmac_base64(WEBHOOK_SECRET, body),
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        }

    async def assert_still_serving(self) -> None:
        """The health check answers 200 and a good delivery of each store is recorded."""
        async with self.http.get(self.url + "/healthz") as response:
            assert response.status == 200, await response.text()
            assert (await response.json()) == {"status": "ok"}

        before = set(await self.inbox_keys())
        body, headers = self.shopify_delivery()
        status, reply = await self.post(SHOPIFY_PATH, body, headers)
        assert (status, reply) == (200, {"status": "accepted"})

        body, headers = self.woo_delivery()
        status, reply = await self.post(WOOCOMMERCE_PATH, body, headers)
        assert (status, reply) == (200, {"status": "accepted"})

        new = set(await self.inbox_keys()) - before
        assert len(new) == 2, new
        self.accepted.extend(new)


@asynccontextmanager
async def running_daemon(
    tmp_path: Path,
    products: list[SeedProduct] | None = None,
    *,
    generation_duration: float = 0.3,
    write_back: str = "add",
    extra_config: str = "",
    before_start: Callable[[Simulators], None] | None = None,
    edit_config: Callable[[str, Simulators], str] | None = None,
) -> AsyncIterator[RunningDaemon]:
    """Serve the simulators and the daemon's webhook server; the engine runs only on ``settle``.

    ``before_start(sims)`` may change the simulators (time zone, id counters) before the
    daemon reads anything; ``extra_config`` is appended to the config file and
    ``edit_config(text, sims)`` may rewrite it.
    """
    products = products if products is not None else [product("Plain hoodie")]
    async with start_simulators(products, generation_duration=generation_duration) as sims:
        # Payloads built here carry image URLs; the simulators learn their own address
        # from the first request they serve, so tell them now.
        sims.shopify_state.base_url = sims.shopify_url
        sims.woocommerce_state.home_url = sims.woocommerce_url
        if before_start is not None:
            before_start(sims)
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'bad-input.sqlite'}"
        text = config_text(sims, database_url, free_port(), write_back=write_back) + extra_config
        if edit_config is not None:
            text = edit_config(text, sims)
        settings = write_config(tmp_path / "pergai-sync.toml", text, sims)
        await upgrade(settings.database.url)

        async with open_context(settings) as ctx, aiohttp.ClientSession() as http:
            daemon = Daemon(ctx)
            runner = await daemon.start_server()
            try:
                url = f"http://127.0.0.1:{runner.addresses[0][1]}"
                yield RunningDaemon(sims, settings, ctx, daemon, url, http)
            finally:
                await runner.cleanup()


@asynccontextmanager
async def pergai_results(state: PergaiState, data: bytes) -> AsyncIterator[list[str]]:
    """Make every PergAI generation started meanwhile finish with ``data`` as its result image.

    Yields the ids of the generations whose result was swapped. The swap
    happens while the job is still pending, before the simulator renders it.
    """
    swapped: list[str] = []

    async def watch() -> None:
        while True:
            for generation in list(state.generations.values()):
                if generation.id not in swapped and generation.result_file is None:
                    swap(state, generation, data)
                    swapped.append(generation.id)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(watch())
    try:
        yield swapped
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def swap(state: PergaiState, generation: GenerationRecord, data: bytes) -> None:
    path = f"/files/bad-input/{generation.id}.png"
    state.files[path] = StoredFile(data)
    generation.result_file = path


def app_of(sims: Simulators, name: str) -> web.Application:
    return sims.apps[name]
