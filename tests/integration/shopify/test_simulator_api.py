"""The simulator answers like Shopify: auth, validation, cost limits, cost extension, delays."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from .conftest import ImageHost, Shop


async def post(shop: Shop, query: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"X-Shopify-Access-Token": token or shop.state.settings.access_token}
    async with aiohttp.ClientSession() as session:
        url = f"{shop.base_url}/admin/api/2025-01/graphql.json"
        async with session.post(url, json={"query": query}, headers=headers) as response:
            return response.status, await response.json()


async def test_bad_token_401_body(shop: Shop) -> None:
    status, body = await post(shop, "{ shop { name } }", token="wrong")

    assert status == 401
    assert body == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


async def test_unknown_field_rejected(shop: Shop) -> None:
    status, body = await post(shop, "{ shop { nope } }")

    assert status == 200
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "undefinedField"
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 10}]


async def test_connection_needs_page_size(shop: Shop) -> None:
    _status, body = await post(shop, "{ products { nodes { id } } }")

    assert body["errors"][0]["message"] == "you must provide one of first or last"


async def test_query_over_max_cost(shop: Shop) -> None:
    query = "{ products(first: 250) { nodes { media(first: 250) { nodes { id } } } } }"

    _status, body = await post(shop, query)

    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


async def test_cost_extension_shape(shop: Shop) -> None:
    _status, body = await post(shop, "{ shop { name } }")

    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1
    assert isinstance(cost["throttleStatus"]["currentlyAvailable"], int)
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0


async def test_delayed_deliveries_all_arrive(shop: Shop, image_host: ImageHost) -> None:
    shop.state.settings.webhook_max_delay = 0.1
    await shop.connector.register_webhooks(f"{image_host.base_url}/webhooks")
    shop.state.generate(5)

    for product in list(shop.state.catalogue.products.values()):
        shop.state.update_product(product, title=product.title + " v2")
    await shop.state.webhooks.drain()
    await asyncio.sleep(0)

    keys = {shop.connector.parse_webhook(h, b).key for h, b in image_host.received}
    assert len(image_host.received) == 5
    assert len(keys) == 5
