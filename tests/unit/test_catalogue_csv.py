"""Product CSV exports load into either store simulator, and other files are rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.catalogue_csv import read_catalogue_csv
from simulators.shopify.csv_import import read_catalogue, read_shopify_csv
from simulators.woocommerce import read_woocommerce_csv


def test_woocommerce_export_detected(shared_dir: Path) -> None:
    path = shared_dir / "data" / "woocommerce" / "sample_products.csv"

    products = read_catalogue(path)

    assert [p.title for p in products] == [p.title for p in read_woocommerce_csv(path)]
    assert products


def test_shopify_export_detected(shared_dir: Path) -> None:
    path = shared_dir / "data" / "shopify" / "product_template.csv"

    products = read_catalogue_csv(path)

    assert [p.title for p in products] == [p.title for p in read_shopify_csv(path)]
    assert products


def test_other_csv_rejected(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Order,Total\n1001,25.00\n", encoding="utf-8")

    with pytest.raises(ValueError, match="neither a WooCommerce product CSV export"):
        read_catalogue_csv(path)
