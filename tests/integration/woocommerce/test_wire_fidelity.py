"""The simulator's wire format against WooCommerce's JSON Schemas and real recordings."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.mapping import catalogue_item
from simulators.server import serve
from simulators.woocommerce import STATE_KEY, WooSettings, WooState, create_app
from simulators.woocommerce.csv_import import read_woocommerce_csv
from tests.integration.woocommerce.conftest import make_connector


def wire_schema(node: Any) -> Any:
    """Replace each property's plugin type by its ``x-wire`` type, so jsonschema can check it."""
    if isinstance(node, list):
        return [wire_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    converted = {k: wire_schema(v) for k, v in node.items() if not k.startswith("x-")}
    if "x-wire" in node:
        converted.update(node["x-wire"])
        converted.pop("format", None)
    if converted.get("type") in ("date-time", "mixed"):
        converted.pop("type")
    return converted


@pytest.fixture(scope="module")
def schemas(shared_dir: Path) -> dict[str, Any]:
    folder = shared_dir / "reference" / "woocommerce"
    return {
        name: wire_schema(json.loads((folder / f"{name}.schema.json").read_text()))
        for name in ("product", "variation")
    }


@pytest.fixture
async def sample_store(shared_dir: Path) -> Any:
    settings = WooSettings(site_timezone="Europe/Istanbul")
    state = WooState(settings)
    state.load_seed(read_woocommerce_csv(shared_dir / "data/woocommerce/sample_products.csv"))
    app = create_app(settings, state)
    async with serve(app) as url:
        yield url, settings, app[STATE_KEY]


def captured(shared_dir: Path, name: str) -> Any:
    record = json.loads((shared_dir / "reference/woocommerce/captured" / name).read_text())
    return json.loads(record["response"]["body_text"])


async def test_every_product_and_variation_validates(
    sample_store: Any, schemas: dict[str, Any]
) -> None:
    url, settings, state = sample_store
    woo = make_connector(url, settings)
    try:
        listing = await woo.transport.request("GET", "products", params={"per_page": 100})
        products = listing.body
        for product in products:
            jsonschema.validate(product, schemas["product"])
            for variation_id in product["variations"]:
                endpoint = f"products/{product['id']}/variations/{variation_id}"
                variation = (await woo.transport.request("GET", endpoint)).body
                jsonschema.validate(variation, schemas["variation"])
    finally:
        await woo.aclose()

    assert len(products) == len(state.products)
    assert any(p["variations"] for p in products)


async def test_wire_text_is_php_escaped(sample_store: Any) -> None:
    url, settings, _ = sample_store
    woo = make_connector(url, settings)
    try:
        api = woo.transport._api
        response = await asyncio.to_thread(api.get, "products", params={"per_page": 1})
    finally:
        await woo.aclose()

    assert isinstance(response, requests.Response)
    assert '"permalink":"http:\\/\\/127.0.0.1' in response.text
    assert response.headers["X-WP-TotalPages"].isdigit()


@pytest.mark.parametrize(
    ("capture", "variations_capture"),
    [
        ("b_product_simple_get.json", None),
        ("b_product_variable_get.json", "b_product_variations_list.json"),
    ],
)
async def test_captured_and_simulated_parse_alike(
    shared_dir: Path, sample_store: Any, capture: str, variations_capture: str | None
) -> None:
    real = captured(shared_dir, capture)
    real_variations = captured(shared_dir, variations_capture) if variations_capture else []
    real_item = catalogue_item(real, variations=real_variations)

    url, settings, state = sample_store
    woo: WooCommerceConnector = make_connector(url, settings)
    try:
        simulated_id = next(p.id for p in state.products.values() if p.name == real["name"])
        simulated = await woo.get_product(str(simulated_id))
    finally:
        await woo.aclose()

    assert simulated is not None
    assert simulated.title == real_item.title
    assert simulated.status == real_item.status
    assert simulated.product_type == real_item.product_type
    assert simulated.categories[-1] == real_item.categories[-1]
    assert len(simulated.images) == len(real_item.images)
    assert [i.ours for i in simulated.images] == [i.ours for i in real_item.images]
    assert len(simulated.variants) == len(real_item.variants)
    assert {v.image is not None for v in simulated.variants} == {
        v.image is not None for v in real_item.variants
    }
    assert real_item.updated_at.tzinfo == UTC
    assert real_item.updated_at == datetime.strptime(
        real["date_modified_gmt"], "%Y-%m-%dT%H:%M:%S"
    ).replace(tzinfo=UTC)


def test_csv_import_reads_every_kind(shared_dir: Path) -> None:
    products = read_woocommerce_csv(shared_dir / "data/woocommerce/sample_products.csv")

    by_title = {p.title: p for p in products}
    assert {p.kind for p in products} == {"simple", "variable", "grouped", "external"}
    assert by_title["V-Neck T-Shirt"].categories == [["Clothing", "Tshirts"]]
    assert len(by_title["V-Neck T-Shirt"].variants) == 3
    assert by_title["V-Neck T-Shirt"].images[0].filename == "vneck-tee-2.jpg"
    assert by_title["Hoodie"].variants[0].options["Color"] == "Red"
    assert all(p.kind != "variation" for p in products)
