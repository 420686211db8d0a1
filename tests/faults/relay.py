"""Webhooks in the wild: capture the stores' real signed deliveries, replay them badly.

The stores' webhooks are registered to a ``Capture`` server of the test's own,
so nothing reaches the daemon unless ``replay`` sends it. ``replay`` sends each
delivery several times, in shuffled order, drops some for good and adds
copies with a forged signature, as a hostile network and a careless store
would. Store edits (``replace_image``, ``rename``) act as a merchant would in
each simulator, firing the store's own webhooks.
"""

from __future__ import annotations

import asyncio
import base64
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from simulators.server import serve
from simulators.shopify.state import PLACEHOLDER_SIZE, SimMedia, SimProduct
from tests.acceptance.harness import Simulators

SIGNATURE_HEADERS = ("x-shopify-hmac-sha256", "x-wc-webhook-signature")


@dataclass(frozen=True)
class Captured:
    """One delivery as the store sent it: where to, its headers and its exact body."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def signed(self) -> bool:
        return any(name in self.headers for name in SIGNATURE_HEADERS)

    def forged(self) -> Captured:
        """Return a copy whose signature was made with another secret."""
        fake = base64.b64encode(random.randbytes(32)).decode()
        headers = {
            name: (fake if name in SIGNATURE_HEADERS else value)
            for name, value in self.headers.items()
        }
        return Captured(self.path, headers, self.body)


@dataclass
class Capture:
    """A webhook receiver that records every delivery and returns 200."""

    deliveries: list[Captured] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/{platform}/{store}", self.receive)
        return app

    async def receive(self, request: web.Request) -> web.Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.deliveries.append(Captured(request.path, headers, await request.read()))
        return web.Response(status=200)

    async def wait_for(self, count: int, max_wait: float = 10.0) -> None:
        """Wait until at least ``count`` deliveries arrived."""
        for _ in range(int(max_wait / 0.05)):
            if len(self.deliveries) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"only {len(self.deliveries)} of {count} deliveries arrived")


@asynccontextmanager
async def capturing() -> AsyncIterator[tuple[Capture, str]]:
    """Serve a ``Capture`` on a free loopback port; yield it with its base URL."""
    capture = Capture()
    async with serve(capture.app()) as base_url:
        yield capture, base_url


@dataclass(frozen=True)
class Chaos:
    """How badly deliveries travel: copies of each, share dropped, share forged."""

    copies: int = 3
    drop_rate: float = 0.2
    forged_rate: float = 0.15
    seed: int = 11


@dataclass
class Replayed:
    """What ``replay`` sent and the daemon's response statuses."""

    statuses: Counter[int] = field(default_factory=Counter)
    dropped: list[Captured] = field(default_factory=list)
    forged_by_store: Counter[str] = field(default_factory=Counter)
    sent: int = 0

    def add(self, other: Replayed) -> None:
        self.statuses.update(other.statuses)
        self.dropped.extend(other.dropped)
        self.forged_by_store.update(other.forged_by_store)
        self.sent += other.sent


async def replay(
    deliveries: list[Captured], target: str, chaos: Chaos, rng: random.Random
) -> Replayed:
    """Send ``deliveries`` to the daemon at ``target`` the way a hostile network would.

    Each delivery is dropped for good at ``drop_rate``, else sent ``copies``
    times, and at ``forged_rate`` once more with a forged signature. All
    copies go out in shuffled order. Unsigned deliveries (WooCommerce's creation
    ping) are sent as they are.
    """
    result = Replayed()
    outgoing: list[Captured] = []
    for delivery in deliveries:
        if delivery.signed and rng.random() < chaos.drop_rate:
            result.dropped.append(delivery)
            continue
        outgoing.extend([delivery] * chaos.copies)
        if delivery.signed and rng.random() < chaos.forged_rate:
            outgoing.append(delivery.forged())
            result.forged_by_store[delivery.path.rsplit("/", 1)[-1]] += 1
    rng.shuffle(outgoing)

    async with aiohttp.ClientSession() as session:
        for delivery in outgoing:
            async with session.post(
                target + delivery.path, data=delivery.body, headers=delivery.headers
            ) as response:
                await response.read()
                result.statuses[response.status] += 1
            result.sent += 1
    return result


# Merchant edits


def replace_image(sims: Simulators, platform: str, product_id: str, filename: str) -> None:
    """Put a new first image on a product, as a merchant uploading a better photo."""
    if platform == "shopify":
        replace_shopify_image(sims, shopify_product(sims, product_id), filename)
        return

    state = sims.woocommerce_state
    product = state.products[int(product_id)]
    attachment = state.add_attachment(filename, parent_id=product.id)
    product.image_ids.insert(0, attachment.id)
    state.touch(product)


def replace_shopify_image(sims: Simulators, product: SimProduct, filename: str) -> None:
    catalogue = sims.shopify_state.catalogue
    now = catalogue.now()
    media = SimMedia(catalogue.next_id("media"), filename, "", "", now, now, status="READY")
    media.placeholder = filename
    media.width = media.height = PLACEHOLDER_SIZE
    catalogue.media[media.id] = media
    product.media_ids.insert(0, media.id)
    media.product_ids.append(product.id)
    catalogue.touch(product)


def rename(sims: Simulators, platform: str, product_id: str, title: str) -> None:
    """Change a product's title, which must not start a new cycle."""
    if platform == "shopify":
        sims.shopify_state.update_product(shopify_product(sims, product_id), title=title)
        return

    state = sims.woocommerce_state
    product = state.products[int(product_id)]
    product.name = title
    state.touch(product)


def shopify_product(sims: Simulators, product_id: str) -> SimProduct:
    number = int(product_id.rsplit("/", 1)[-1])
    return sims.shopify_state.catalogue.products[number]
