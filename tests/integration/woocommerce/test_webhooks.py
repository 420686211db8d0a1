"""Webhooks end to end: registration ping, signed deliveries, deletes and variation updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from connectors.base import EventKind, WebhookDelivery
from connectors.woocommerce import WooCommerceConnector
from simulators.server import serve
from sync.errors import WebhookSignatureError
from tests.integration.woocommerce.conftest import Store


@dataclass
class Receiver:
    url: str
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


@pytest.fixture
async def receiver(connector: WooCommerceConnector) -> AsyncIterator[Receiver]:
    received: list[WebhookDelivery] = []
    rejected: list[str] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            received.append(connector.parse_webhook(dict(request.headers), body))
        except WebhookSignatureError as error:
            rejected.append(str(error))
            return web.Response(status=401)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hooks/woocommerce", hook)
    async with serve(app) as url:
        yield Receiver(f"{url}/hooks/woocommerce", received, rejected)


async def settle(store: Store) -> None:
    async with asyncio.timeout(10):
        await store.webhooks.idle()


async def test_register_pings_and_parses(
    store: Store, connector: WooCommerceConnector, receiver: Receiver
) -> None:
    topics = await connector.register_webhooks(receiver.url)

    assert "product.updated" in topics
    assert len(store.state.webhooks) == 4
    pings = [d for d in receiver.deliveries if d.topic == "ping"]
    assert len(pings) == 4
    assert pings[0].events[0].kind == EventKind.PING
    assert all(record.status == 200 for record in store.webhooks.log)


async def test_register_twice_keeps_one_per_topic(
    store: Store, connector: WooCommerceConnector, receiver: Receiver
) -> None:
    await connector.register_webhooks(receiver.url)
    await connector.register_webhooks(receiver.url)

    assert len(store.state.webhooks) == 4


async def test_update_delivery_is_verified(
    store: Store, connector: WooCommerceConnector, receiver: Receiver
) -> None:
    await connector.register_webhooks(receiver.url)
    product = next(p for p in store.state.products.values() if p.name.startswith("Kahve"))

    await connector.transport.request("PUT", f"products/{product.id}", data={"regular_price": "13"})
    await settle(store)

    updates = [d for d in receiver.deliveries if d.topic == "product.updated"]
    assert len(updates) == 1
    event = updates[0].events[0]
    assert event.kind == EventKind.PRODUCT_CHANGED
    assert event.product_id == str(product.id)
    assert event.item is not None
    assert event.item.title == "Kahve Fincanı ☕ Çay – «خاص»"
    assert receiver.rejected == []


async def test_bad_signature_rejected(store: Store, connector: WooCommerceConnector) -> None:
    body = b'{"id": 5, "date_modified_gmt": "2026-01-01T00:00:00"}'
    headers = {"X-WC-Webhook-Topic": "product.updated", "X-WC-Webhook-Signature": "bm9wZQ=="}

    with pytest.raises(WebhookSignatureError):
        connector.parse_webhook(headers, body)


async def test_trash_sends_deleted_payload(
    store: Store, connector: WooCommerceConnector, receiver: Receiver
) -> None:
    await connector.register_webhooks(receiver.url)
    product_id = next(iter(store.state.products))

    await connector.transport.request("DELETE", f"products/{product_id}")
    await settle(store)

    deleted = [d for d in receiver.deliveries if d.topic == "product.deleted"]
    assert len(deleted) == 1
    assert deleted[0].events[0].kind == EventKind.PRODUCT_DELETED
    assert deleted[0].events[0].product_id == str(product_id)


async def test_variation_update_names_parent(
    store: Store, connector: WooCommerceConnector, receiver: Receiver
) -> None:
    await connector.register_webhooks(receiver.url)
    parent = next(p for p in store.state.products.values() if p.type == "variable")
    variation_id = parent.variation_ids[0]

    endpoint = f"products/{parent.id}/variations/{variation_id}"
    await connector.transport.request("PUT", endpoint, data={"regular_price": "21"})
    await settle(store)

    updates = [d for d in receiver.deliveries if d.topic == "product.updated"]
    assert len(updates) == 1
    assert updates[0].events[0].product_id == str(parent.id)


async def test_duplicate_deliveries_share_key(
    store: Store, connector: WooCommerceConnector, receiver: Receiver
) -> None:
    await connector.register_webhooks(receiver.url)
    store.settings.webhook_duplicate_rate = 1.0
    product_id = next(iter(store.state.products))

    await connector.transport.request("PUT", f"products/{product_id}", data={"name": "Renamed"})
    await settle(store)

    keys = [d.key for d in receiver.deliveries if d.topic == "product.updated"]
    assert len(keys) == 2
    assert keys[0] == keys[1]


async def test_deleted_meanwhile_gives_no_event(
    store: Store, connector: WooCommerceConnector, receiver: Receiver
) -> None:
    await connector.register_webhooks(receiver.url)
    store.settings.webhook_delay = 0.3
    created = await connector.transport.request("POST", "products", data={"name": "Short-lived"})
    product_id = created.body["id"]

    await connector.transport.request("DELETE", f"products/{product_id}", params={"force": "true"})
    await settle(store)

    created_deliveries = [d for d in receiver.deliveries if d.topic == "product.created"]
    assert len(created_deliveries) == 1
    assert created_deliveries[0].events == ()
