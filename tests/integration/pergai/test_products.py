"""Products through the client: create, read, delete, reference images and Unicode."""

from __future__ import annotations

import pytest

from connectors.pergai import PergaiClient
from simulators.server import serve
from sync.errors import BadRequestError, ImageError, NotFoundError
from tests.integration.pergai.conftest import Sim
from tests.integration.pergai.helpers import image_of, store_app

UNICODE_NAME = "Kapüşonlu Sweatshirt 🧥 — ıİğĞşŞçÇöÖüÜ שלום"


async def test_product_create_get_list_delete(client: PergaiClient) -> None:
    created = await client.create_product("Mug", "home", "products/sample.png")

    fetched = await client.get_product(created.id)
    listed = await client.list_products()
    await client.delete_product(created.id)

    assert fetched.name == "Mug"
    assert fetched.category == "home"
    assert [product.id for product in listed] == [created.id]
    with pytest.raises(NotFoundError):
        await client.get_product(created.id)


async def test_product_unicode_round_trip(client: PergaiClient) -> None:
    created = await client.create_product(UNICODE_NAME, "giyim", "products/örnek.png")

    fetched = await client.get_product(created.id)

    assert created.name == UNICODE_NAME
    assert fetched.name == UNICODE_NAME
    assert fetched.image_filename == "örnek.png"


async def test_storage_path_drawn_as_image(client: PergaiClient) -> None:
    created = await client.create_product("Mug", "home", "products/sample.png")

    assert created.image_path is not None
    assert image_of(await client.download(created.image_path)).size == (512, 512)


async def test_image_url_fetched(client: PergaiClient) -> None:
    async with serve(store_app()) as store:
        created = await client.create_product(
            "Hoodie", "clothing", f"{store}/media/hoodie-blue.png"
        )

    assert created.image_path is not None
    assert created.image_filename == "hoodie-blue.png"
    assert image_of(await client.download(created.image_path)).size == (128, 128)


async def test_image_url_not_found_rejected(client: PergaiClient, sim: Sim) -> None:
    async with serve(store_app()) as store:
        with pytest.raises(BadRequestError) as caught:
            await client.create_product("Hoodie", "clothing", f"{store}/media/missing.png")

    assert "returned HTTP 404" in str(caught.value)
    assert sim.state.products == {}


async def test_image_url_not_an_image_rejected(client: PergaiClient) -> None:
    async with serve(store_app()) as store:
        with pytest.raises(BadRequestError) as caught:
            await client.create_product("Hoodie", "clothing", f"{store}/media/readme.txt")

    assert "is not an image" in str(caught.value)


async def test_image_url_unreachable_rejected(client: PergaiClient) -> None:
    async with serve(store_app()) as store:
        closed = store

    with pytest.raises(BadRequestError) as caught:
        await client.create_product("Hoodie", "clothing", f"{closed}/media/hoodie-blue.png")

    assert "unreachable" in str(caught.value)


async def test_missing_field_rejected_with_reason(client: PergaiClient, sim: Sim) -> None:
    with pytest.raises(BadRequestError) as caught:
        await client.create_product("", "clothing", "products/sample.png")

    assert "name is required" in str(caught.value)
    assert sim.calls("POST /products") == 1


async def test_find_product_by_image_file_name(client: PergaiClient) -> None:
    await client.create_product("Hoodie", "clothing", "products/red.png")
    blue = await client.create_product("Hoodie", "clothing", "products/blue.png")
    await client.create_product("Mug", "home", "products/blue.png")

    found = await client.find_product("Hoodie", "https://shop.example/cdn/blue.png?v=2")

    assert found is not None
    assert found.id == blue.id


async def test_find_product_none(client: PergaiClient) -> None:
    assert await client.find_product("Nothing", None) is None


async def test_download_needs_absolute_url(client: PergaiClient, sim: Sim) -> None:
    with pytest.raises(ImageError) as caught:
        await client.download("products/sample.png")

    assert "not an http(s) URL" in str(caught.value)
    assert sim.state.requests["total"] == 0
