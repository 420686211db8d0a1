"""Simulator pieces without a server: CSV import, REST import, search syntax and the cost bucket."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulators.catalogue import SeedProduct
from simulators.shopify.cost import LeakyBucket
from simulators.shopify.csv_import import read_rest_products, read_shopify_csv
from simulators.shopify.search import SearchSyntaxError, parse_search
from simulators.shopify.state import Catalogue


def test_csv_template_products(shared_dir: Path) -> None:
    products = read_shopify_csv(shared_dir / "data" / "shopify" / "product_template.csv")

    assert len(products) == 3
    shirt = products[0]
    assert shirt.title == "Example T-Shirt"
    assert shirt.tags == ["Made to Order", "Shirt Tag"]
    assert shirt.categories[0][-1] == "T-Shirts"
    assert shirt.images[0].filename == "tshirts.jpg"
    assert shirt.variants[0].options == {"Color": "Green", "Size": "S"}
    assert shirt.variants[0].image is not None
    assert shirt.variants[0].image.filename == "green-t-shirt.jpg"
    assert {p.status for p in products} == {"active", "draft", "archived"}


def test_rest_sample_import(shared_dir: Path) -> None:
    path = (
        shared_dir
        / "reference"
        / "shopify"
        / "webhooks"
        / "docs_sample_2025-10_products_update.json"
    )

    products = read_rest_products(path)

    assert products[0].title == "Example T-Shirt"
    assert products[0].tags == ["example", "mens", "t-shirt"]
    assert [v.title for v in products[0].variants] == ["Small", "Medium"]


def catalogue_of(titles: list[str], statuses: list[str]) -> Catalogue:
    catalogue = Catalogue()
    catalogue.load_seed(
        [SeedProduct(title=t, status=s) for t, s in zip(titles, statuses, strict=True)],
        at=datetime(2025, 6, 1, 10, tzinfo=UTC),
    )
    return catalogue


def test_search_window_and_statuses() -> None:
    catalogue = catalogue_of(["a", "b", "c"], ["active", "draft", "archived"])
    query = (
        "updated_at:>='2025-06-01T10:00:00Z' AND updated_at:<='2025-06-01T10:00:00Z' "
        "AND (status:ACTIVE OR status:DRAFT)"
    )

    matches = parse_search(query)

    assert [p.title for p in catalogue.products.values() if matches(p)] == ["a", "b"]


def test_search_strict_bound_excludes_same_second() -> None:
    catalogue = catalogue_of(["a"], ["active"])

    matches = parse_search("updated_at:>'2025-06-01T10:00:00Z'")

    assert not any(matches(p) for p in catalogue.products.values())


def test_search_rejects_unclosed_group() -> None:
    with pytest.raises(SearchSyntaxError):
        parse_search("(status:active")


def test_bucket_refills_at_rate() -> None:
    now = [0.0]
    bucket = LeakyBucket(100.0, 10.0, clock=lambda: now[0])

    assert bucket.take(100)
    assert not bucket.take(1)
    now[0] = 2.0

    assert bucket.status()["currentlyAvailable"] == 20
    assert bucket.take(20)
