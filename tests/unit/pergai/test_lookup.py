"""Finding the record a lost create may have made."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.pergai import Generation, Product
from connectors.pergai.lookup import newest_first, pick_product, scene_matches


def product(id: str, name: str, image: str, minute: int | None = None) -> Product:
    created = datetime(2025, 1, 1, 12, minute, tzinfo=UTC) if minute is not None else None
    return Product(id=id, name=name, image_path=image, created_at=created)


def generation(scene: str | None, prompt: str | None = None) -> Generation:
    return Generation.model_validate(
        {"id": "g", "status": "pending", "scene": scene, "prompt": prompt}
    )


def test_pick_by_name() -> None:
    products = [product("1", "Mug", "https://p/a.png"), product("2", "Hoodie", "https://p/b.png")]

    found = pick_product(products, "Hoodie", None)

    assert found is not None
    assert found.id == "2"


def test_pick_narrows_by_file_name() -> None:
    products = [
        product("1", "Hoodie", "https://p/files/1/red.png?sig=x", minute=5),
        product("2", "Hoodie", "https://p/files/2/blue.png?sig=y", minute=1),
    ]

    found = pick_product(products, "Hoodie", "https://store.example/media/blue.png?v=3")

    assert found is not None
    assert found.id == "2"


def test_pick_newest_of_matches() -> None:
    products = [
        product("1", "Hoodie", "https://p/1/blue.png", minute=1),
        product("2", "Hoodie", "https://p/2/blue.png", minute=9),
        product("3", "Hoodie", "https://p/3/blue.png", minute=4),
    ]

    found = pick_product(products, "Hoodie", "https://store/blue.png")

    assert found is not None
    assert found.id == "2"


def test_pick_none_when_no_name_matches() -> None:
    assert pick_product([product("1", "Mug", "https://p/a.png")], "Hoodie", None) is None


def test_newest_first_without_times_keeps_later_first() -> None:
    products = [product("1", "A", "x"), product("2", "A", "x")]

    assert [found.id for found in newest_first(products)] == ["2", "1"]


def test_scene_matches_field_or_prompt() -> None:
    assert scene_matches(generation("studio"), "studio")
    assert not scene_matches(generation("nature"), "studio")
    assert scene_matches(generation(None, "Mug in a Studio scene"), "studio")
    assert scene_matches(generation("nature"), None)
