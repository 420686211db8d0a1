"""Categories through the client: the seeded tree, create, update, move and delete."""

from __future__ import annotations

import pytest

from connectors.pergai import PergaiClient
from sync.errors import BadRequestError, NotFoundError


async def test_default_tree_has_turkish_names(client: PergaiClient) -> None:
    categories = await client.list_categories()
    by_name = {category.name_en: category for category in categories}

    assert by_name["Clothing"].name_tr == "Giyim"
    assert by_name["Clothing"].is_default
    assert by_name["Clothing"].parent_category_id is None
    assert by_name["Hoodies"].name_tr == "Kapüşonlu Sweatshirt"
    assert by_name["Hoodies"].parent_category_id == by_name["Clothing"].id
    assert by_name["Jewellery"].name_tr == "Takı"
    assert by_name["Home & Kitchen"].name_tr == "Ev ve Mutfak"


async def test_category_create_get_update_delete(client: PergaiClient) -> None:
    clothing = next(c for c in await client.list_categories() if c.name_en == "Clothing")

    created = await client.create_category(
        "Çocuk Giyimi 👶", parent_category_id=clothing.id, type="human"
    )
    fetched = await client.get_category(created.id)
    renamed = await client.update_category(created.id, name="Bebek 🍼")
    moved = await client.update_category(created.id, parent_category_id=None)
    await client.delete_category(created.id)

    assert fetched.name_en == "Çocuk Giyimi 👶"
    assert fetched.parent_category_id == clothing.id
    assert fetched.type == "human"
    assert not fetched.is_default
    assert renamed.name_en == "Bebek 🍼"
    assert renamed.parent_category_id == clothing.id
    assert moved.parent_category_id is None
    with pytest.raises(NotFoundError):
        await client.get_category(created.id)


async def test_default_category_update_rejected(client: PergaiClient) -> None:
    shoes = next(c for c in await client.list_categories() if c.name_en == "Shoes")

    with pytest.raises(BadRequestError) as caught:
        await client.update_category(shoes.id, name="Boots")

    assert "default category" in str(caught.value)


async def test_category_cycle_rejected(client: PergaiClient) -> None:
    parent = await client.create_category("Parent")
    child = await client.create_category("Child", parent_category_id=parent.id)

    with pytest.raises(BadRequestError) as caught:
        await client.update_category(parent.id, parent_category_id=child.id)

    assert "its own ancestor" in str(caught.value)
