"""Collections through the client: preview, full read, items and the ZIP download."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from connectors.pergai import Generation, PergaiClient
from sync.errors import NotFoundError
from tests.integration.pergai.conftest import Sim
from tests.integration.pergai.helpers import image_of


async def finished_generations(client: PergaiClient, count: int) -> list[Generation]:
    product = await client.create_product("Takı 💍", "accessories", "products/ring.png")
    scenes = ["studio", "nature", "luxury", "beach", "urban", "minimal"]
    started = [await client.create_generation(product.id, scenes[n]) for n in range(count)]
    return [await client.wait_for_generation(g.id, deadline=5, interval=0.05) for g in started]


async def test_collection_preview_and_full(client: PergaiClient) -> None:
    generations = await finished_generations(client, 5)
    created = await client.create_collection("Yaz Koleksiyonu ☀️")
    for generation in generations:
        await client.add_collection_item(created.id, generation.id)

    listed = await client.list_collections()
    full = await client.get_collection(created.id)

    assert created.item_count == 0
    assert listed[0].name == "Yaz Koleksiyonu ☀️"
    assert listed[0].item_count == 5
    assert [item.generation_id for item in listed[0].items] == [g.id for g in generations[:0:-1]]
    assert len(full.items) == 5
    assert all(item.image_url for item in full.items)


async def test_collection_zip_download(client: PergaiClient, tmp_path: Path) -> None:
    generations = await finished_generations(client, 3)
    collection = await client.create_collection("Katalog")
    for generation in generations:
        await client.add_collection_item(collection.id, generation.id)
    destination = tmp_path / "katalog.zip"

    size = await client.download_collection(collection.id, destination)

    assert destination.stat().st_size == size
    assert not (tmp_path / "katalog.zip.part").exists()
    with zipfile.ZipFile(destination) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"pergai-{g.id}.png" for g in generations)
        for name in names:
            assert image_of(archive.read(name)).size == (512, 512)


async def test_collection_delete_keeps_generations(client: PergaiClient, sim: Sim) -> None:
    generations = await finished_generations(client, 1)
    collection = await client.create_collection("Silinecek")
    await client.add_collection_item(collection.id, generations[0].id)

    await client.delete_collection(collection.id)

    with pytest.raises(NotFoundError):
        await client.get_collection(collection.id)
    assert (await client.get_generation(generations[0].id)).id == generations[0].id


async def test_add_unknown_generation_not_found(client: PergaiClient) -> None:
    collection = await client.create_collection("Boş")

    with pytest.raises(NotFoundError):
        await client.add_collection_item(collection.id, "00000000-0000-0000-0000-000000000000")
