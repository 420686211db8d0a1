"""PergAI records: aliases, tolerated extras and the two tool result shapes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.pergai import (
    Category,
    Collection,
    Generation,
    GenerationStatus,
    Product,
    Template,
    ToolResult,
)


def test_product_aliases_and_extras() -> None:
    product = Product.model_validate(
        {
            "id": "p1",
            "name": "Hoodie",
            "category": "clothing",
            "imagePath": "https://cdn.example/files/p1/hoodie%20blue.png?sig=1",
            "userId": "u1",
        }
    )

    assert product.image_filename == "hoodie blue.png"
    assert product.model_extra == {"userId": "u1"}


def test_category_wire_names() -> None:
    category = Category.model_validate(
        {
            "id": "c",
            "nameEn": "Shoes",
            "nameTr": "Ayakkabı",
            "parentCategoryId": None,
            "isDefault": True,
        }
    )

    assert category.name_tr == "Ayakkabı"
    assert category.is_default
    assert category.parent_category_id is None


def test_generation_final_statuses() -> None:
    finals = {status for status in GenerationStatus if status.final}

    assert finals == {GenerationStatus.COMPLETED, GenerationStatus.FAILED}


def test_generation_unknown_status_rejected() -> None:
    with pytest.raises(ValidationError):
        Generation.model_validate({"id": "g", "status": "exploded"})


def test_collection_count_from_wire() -> None:
    collection = Collection.model_validate(
        {"id": "c", "name": "Yaz", "_count": {"items": 9}, "items": [{"id": "i1"}]}
    )

    assert collection.item_count == 9
    assert len(collection.items) == 1


def test_collection_count_defaults_to_items() -> None:
    collection = Collection.model_validate({"id": "c", "name": "Yaz", "items": [{"id": "i1"}]})

    assert collection.item_count == 1


@pytest.mark.parametrize(
    "payload",
    ["studio", {"id": "studio"}, {"name": "studio", "id": "t1"}],
    ids=["str", "id", "name"],
)
def test_template_shapes(payload: object) -> None:
    assert Template.model_validate(payload).name == "studio"


def test_tool_result_to_poll() -> None:
    result = ToolResult.model_validate({"id": "g", "status": "processing", "resultImagePath": None})

    assert result.needs_polling
    assert result.finished_url is None


def test_tool_result_finished_url() -> None:
    result = ToolResult.model_validate({"url": "https://x/y.png"})

    assert not result.needs_polling
    assert result.finished_url == "https://x/y.png"


def test_tool_result_completed_record() -> None:
    result = ToolResult.model_validate(
        {"id": "g", "status": "completed", "resultImagePath": "https://x/g.png"}
    )

    assert result.finished_url == "https://x/g.png"
    assert not result.needs_polling


def test_tool_result_failed_not_polled() -> None:
    result = ToolResult.model_validate({"id": "g", "status": "failed"})

    assert result.failed
    assert not result.needs_polling
