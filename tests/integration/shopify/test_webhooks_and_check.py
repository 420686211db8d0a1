"""Signed webhooks from the simulator, our own write recognised, and the credentials check."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from connectors.base import EventKind, ImageWrite, marker_filename
from connectors.retry import RetryPolicy
from connectors.shopify import ShopifyConnector
from simulators.catalogue import SeedImage, SeedProduct
from sync.errors import AuthenticationError, NotFoundError, WebhookSignatureError

from .conftest import GENERATION, ImageHost, Shop, png


async def wait_for(condition: Callable[[], object]) -> None:
    """Poll ``condition`` for up to 5 seconds (deliveries arrive on their own tasks)."""
    async with asyncio.timeout(5.0):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_register_webhooks_twice(shop: Shop, image_host: ImageHost) -> None:
    topics = await shop.connector.register_webhooks(f"{image_host.base_url}/webhooks")
    again = await shop.connector.register_webhooks(f"{image_host.base_url}/webhooks")

    assert topics == ["products/create", "products/update", "products/delete", "app/uninstalled"]
    assert again == topics
    assert len(shop.state.webhooks.subscriptions) == 4


async def test_own_write_delivery_recognised(shop: Shop, image_host: ImageHost) -> None:
    product = shop.state.load_seed(
        [SeedProduct(title='Lamp <b>&</b> "ışık" / 💡', images=[SeedImage("lamp.png")])]
    )[0]
    await shop.connector.register_webhooks(f"{image_host.base_url}/webhooks")
    url = image_host.add("r.png", png())
    write = ImageWrite(product.gid, url, marker_filename(GENERATION), "Lamp on a desk")

    await shop.connector.write_image(write)
    await shop.state.webhooks.drain()

    deliveries = [shop.connector.parse_webhook(h, b) for h, b in image_host.received]
    assert deliveries, "the write should fire products/update"
    assert all(d.topic == "products/update" for d in deliveries)
    last = deliveries[-1].events[0]
    assert last.kind is EventKind.PRODUCT_CHANGED
    assert last.item is not None
    assert last.item.title == 'Lamp <b>&</b> "ışık" / 💡'
    assert any(image.generation_id == GENERATION for image in last.item.images)
    raw_bodies = [b for _, b in image_host.received]
    assert any(b"\\u003cb\\u003e" in b and b"\\/" in b for b in raw_bodies)


async def test_delete_and_duplicates_share_key(shop: Shop, image_host: ImageHost) -> None:
    shop.state.settings.webhook_duplicate_rate = 1.0
    await shop.connector.register_webhooks(f"{image_host.base_url}/webhooks")
    product = shop.state.load_seed([SeedProduct(title="gone")])[0]

    shop.state.catalogue.delete_product(product.id)
    await wait_for(lambda: len(image_host.received) == 2)

    deliveries = [shop.connector.parse_webhook(h, b) for h, b in image_host.received]
    assert deliveries[0].key == deliveries[1].key
    assert deliveries[0].events[0].kind is EventKind.PRODUCT_DELETED
    assert deliveries[0].events[0].product_id == product.gid


async def test_dropped_delivery_not_sent(shop: Shop, image_host: ImageHost) -> None:
    shop.state.settings.webhook_drop_rate = 1.0
    await shop.connector.register_webhooks(f"{image_host.base_url}/webhooks")
    product = shop.state.load_seed([SeedProduct(title="quiet")])[0]

    shop.state.update_product(product, title="quiet 2")
    await shop.state.webhooks.drain()

    assert image_host.received == []
    assert shop.state.webhooks.deliveries[0].dropped


async def test_tampered_body_rejected(shop: Shop, image_host: ImageHost) -> None:
    await shop.connector.register_webhooks(f"{image_host.base_url}/webhooks")
    product = shop.state.load_seed([SeedProduct(title="x")])[0]
    shop.state.update_product(product, title="y")
    await wait_for(lambda: image_host.received)
    headers, body = image_host.received[0]

    with pytest.raises(WebhookSignatureError):
        shop.connector.parse_webhook(headers, body.replace(b'"y"', b'"z"'))


async def test_check_returns_shop(shop: Shop) -> None:
    result = await shop.connector.check()

    assert result.shop_name == "PergAI Demo"
    assert "write_files" in result.scopes


async def test_check_missing_scope(shop: Shop) -> None:
    shop.state.settings.scopes = ("read_products",)

    with pytest.raises(AuthenticationError, match="write_products, write_files"):
        await shop.connector.check()


async def test_bad_token_names_fix_not_token(shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    secret = "shpat_wrong_secret_value"
    connector = ShopifyConnector(
        "acme", "pergai-demo", secret, base_url=shop.base_url, retry=RetryPolicy(attempts=1)
    )
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(AuthenticationError) as caught:
            await connector.check()
    finally:
        await connector.aclose()

    assert "store 'acme': Shopify refused the access token (401); check the access token" in str(
        caught.value
    )
    assert secret not in str(caught.value)
    assert secret not in caplog.text
    assert secret not in repr(connector)


async def test_unknown_shop_not_found(shop: Shop) -> None:
    connector = ShopifyConnector(
        "acme",
        "other",
        shop.state.settings.access_token,
        base_url=f"{shop.base_url}/shops/other",
        retry=RetryPolicy(attempts=1),
    )
    try:
        with pytest.raises(NotFoundError, match="404"):
            await connector.check()
    finally:
        await connector.aclose()
