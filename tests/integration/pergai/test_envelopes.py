"""The client reads every response shape the simulator can send, and rejects others."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from connectors.pergai import PergaiClient
from simulators.server import serve
from sync.errors import InvalidResponseError
from tests.integration.pergai.conftest import API_KEY, FAST_RETRY, Sim


@pytest.mark.parametrize("envelope", ["bare", "data", "named"])
async def test_every_endpoint_in_envelope(client: PergaiClient, sim: Sim, envelope: str) -> None:
    sim.settings.envelope = envelope  # type: ignore[assignment]

    product = await client.create_product("Çanta", "bags", "products/canta.png")
    generation = await client.create_generation(product.id, "studio")
    collection = await client.create_collection("Koleksiyon")
    item = await client.add_collection_item(collection.id, generation.id)
    category = await client.create_category("Kemerler", type="scene")

    assert (await client.get_product(product.id)).name == "Çanta"
    assert [p.id for p in await client.list_products()] == [product.id]
    assert (await client.get_generation(generation.id)).id == generation.id
    assert len(await client.list_generations()) == 1
    assert item.generation_id == generation.id
    assert (await client.get_collection(collection.id)).item_count == 1
    assert len(await client.list_collections()) == 1
    assert (await client.get_category(category.id)).name_en == "Kemerler"
    assert (await client.update_category(category.id, name="Kemer")).name_en == "Kemer"
    assert len(await client.list_categories()) > 10
    assert len(await client.list_templates()) >= 3
    assert (await client.remove_background(product.id)).id is not None


def odd_api(body: str) -> web.Application:
    """An API that returns ``body`` as JSON text for every request."""

    async def respond(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", respond)
    return app


@pytest.fixture
async def odd_client(request: pytest.FixtureRequest) -> AsyncIterator[PergaiClient]:
    async with (
        serve(odd_api(request.param)) as origin,
        PergaiClient(origin, API_KEY, retry=FAST_RETRY) as pergai,
    ):
        yield pergai


@pytest.mark.parametrize(
    "odd_client",
    ['{"a": [], "b": []}', '"ok"', "<html>"],
    indirect=True,
    ids=["two-lists", "string", "html"],
)
async def test_unreadable_list_rejected(odd_client: PergaiClient) -> None:
    with pytest.raises(InvalidResponseError) as caught:
        await odd_client.list_products()

    assert "GET /products" in str(caught.value)
    assert API_KEY not in str(caught.value)


@pytest.mark.parametrize("odd_client", ['{"name": "no id"}'], indirect=True)
async def test_record_missing_id_rejected(odd_client: PergaiClient) -> None:
    with pytest.raises(InvalidResponseError) as caught:
        await odd_client.get_generation("g1")

    assert "GET /generations/g1" in str(caught.value)
    assert "id" in str(caught.value)
