"""Outputs, templates and filters: keys, rendering and which products are skipped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import CatalogueItem, StoreImage
from sync.config import Filters, OutputConfig, output_key, product_fields


def _output(**table: Any) -> OutputConfig:
    return OutputConfig.model_validate(table)


def _item(**changes: Any) -> CatalogueItem:
    values: dict[str, Any] = {
        "product_id": "1",
        "title": "Kapüşonlu Sweatshirt",
        "updated_at": datetime(2025, 1, 1, tzinfo=UTC),
        "status": "ACTIVE",
        "product_type": "Hoodie",
        "categories": ("Giyim", "Kapüşonlu"),
        "tags": ("yeni", "kış"),
        "images": (StoreImage(id="10", url="https://cdn.example.com/a.jpg"),),
    }
    return CatalogueItem(**{**values, **changes})


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"scene": "studio"}, "scene:studio"),
        ({"scene": "studio", "aspect_ratio": "16:9"}, "scene:studio:16:9"),
        ({"scene": "studio", "ai_provider": "nano-banana-pro"}, "scene:studio"),
        ({"tool": "remove-bg"}, "tool:remove-bg"),
        ({"tool": "upscale", "scale": "2x"}, "tool:upscale:2x"),
        ({"tool": "expand", "ratio": "4:3", "prompt": "more sky"}, "tool:expand:4:3"),
    ],
)
def test_output_key(table: dict[str, str], key: str) -> None:
    output = _output(**table)

    assert output.key == key
    assert (
        output_key(
            table.get("scene"),
            table.get("tool"),
            aspect_ratio=table.get("aspect_ratio"),
            scale=table.get("scale"),
            ratio=table.get("ratio"),
        )
        == key
    )


def test_render_prompt_fields() -> None:
    output = _output(
        scene="studio", prompt="{title} ({product_type}) in {category}: {tags} {vendor}"
    )

    fields = product_fields(_item(), vendor="Atölye")

    assert output.render_prompt(fields) == (
        "Kapüşonlu Sweatshirt (Hoodie) in Giyim > Kapüşonlu: yeni, kış Atölye"
    )


def test_render_prompt_without_template() -> None:
    assert _output(scene="studio").render_prompt({"title": "x"}) is None


def test_render_prompt_missing_field_blank() -> None:
    output = _output(scene="studio", prompt="{title}|{vendor}|{title:.4}")

    assert output.render_prompt({"title": "Sweatshirt", "vendor": None}) == "Sweatshirt||Swea"


def test_render_alt_scene_and_output() -> None:
    output = _output(tool="upscale", scale="2x")
    output._alt_text = "{title} [{scene}] [{output}]"

    assert output.render_alt({"title": "Şapka"}) == "Şapka [] [upscale]"


def test_template_format_spec_checked() -> None:
    with pytest.raises(ValidationError, match="Unknown format code 'd'"):
        _output(scene="studio", prompt="{title:d}")


def test_template_positional_field_rejected() -> None:
    with pytest.raises(ValidationError, match="name each field"):
        _output(scene="studio", prompt="{} on a table")


def test_scene_name_without_colon() -> None:
    with pytest.raises(ValidationError, match="no ':' or spaces"):
        _output(scene="studio:dark")


def test_filters_accept_matching_product() -> None:
    filters = Filters(
        statuses=["active"],
        product_types=["hoodie"],
        categories=["Giyim"],
        tags_include=["KIŞ"],
        tags_exclude=["no-ai"],
    )

    assert filters.skip_reason(_item()) is None


@pytest.mark.parametrize(
    ("filters", "changes", "reason"),
    [
        (Filters(statuses=["active"]), {"status": "draft"}, "status 'draft' is not one of"),
        (Filters(product_types=["T-Shirt"]), {}, "product type 'Hoodie' is not one of"),
        (Filters(categories=["Giyim > Tişört"]), {}, "category 'Giyim > Kapüşonlu' is not"),
        (Filters(categories=["Giyim"]), {"categories": ()}, "category '' is not within"),
        (Filters(tags_exclude=["Yeni"]), {}, "tagged 'Yeni', which tags_exclude lists"),
        (Filters(tags_include=["yaz"]), {}, "has none of the tags ['yaz']"),
        (Filters(), {"images": ()}, "the product has no image to use as a reference"),
    ],
)
def test_filters_skip_reason(filters: Filters, changes: dict[str, Any], reason: str) -> None:
    skipped = filters.skip_reason(_item(**changes))

    assert skipped is not None
    assert skipped.startswith(reason)


def test_filters_allow_imageless_when_not_required() -> None:
    assert Filters(require_images=False).skip_reason(_item(images=())) is None
