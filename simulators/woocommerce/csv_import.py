"""Read a WooCommerce product CSV export into neutral ``SeedProduct`` records.

Handles the exporter's columns: ID, Type (a comma list such as
"simple, downloadable, virtual"), SKU, Name, Published, Categories (comma
list of ``>`` paths), Tags, Images (comma-separated URLs), Parent (a SKU or
``id:N``), Regular price, Description and "Attribute N name/value(s)".
Variations are attached to their parent. Images keep only their file name:
the simulator draws them, because nothing here reaches the internet.
"""

from __future__ import annotations

import csv
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from simulators.catalogue import SeedImage, SeedProduct, SeedVariant

KINDS = ("simple", "variable", "grouped", "external")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _kind(type_column: str) -> str:
    kinds = _split(type_column.lower())
    if "variation" in kinds:
        return "variation"
    return next((k for k in kinds if k in KINDS), "simple")


def _images(column: str, alt: str) -> list[SeedImage]:
    names = [posixpath.basename(unquote(urlsplit(url).path)) for url in _split(column)]
    return [SeedImage(filename=name, alt=alt) for name in names if name]


def _attributes(row: dict[str, str]) -> dict[str, list[str]]:
    attributes: dict[str, list[str]] = {}
    number = 1
    while f"Attribute {number} name" in row:
        name = (row.get(f"Attribute {number} name") or "").strip()
        values = _split(row.get(f"Attribute {number} value(s)") or "")
        if name and values:
            attributes[name] = values
        number += 1
    return attributes


def _status(row: dict[str, str]) -> str:
    published = (row.get("Published") or "1").strip()
    return {"1": "publish", "0": "draft", "-1": "private"}.get(published, "publish")


def _product(row: dict[str, str]) -> SeedProduct:
    name = (row.get("Name") or "").strip()
    return SeedProduct(
        title=name,
        kind=_kind(row.get("Type") or ""),
        status=_status(row),
        sku=(row.get("SKU") or "").strip(),
        price=(row.get("Regular price") or "").strip(),
        description=row.get("Description") or "",
        categories=[
            [p.strip() for p in path.split(">")] for path in _split(row.get("Categories") or "")
        ],
        tags=_split(row.get("Tags") or ""),
        images=_images(row.get("Images") or "", name),
    )


def _variant(row: dict[str, str]) -> SeedVariant:
    images = _images(row.get("Images") or "", (row.get("Name") or "").strip())
    options = {name: values[0] for name, values in _attributes(row).items()}
    return SeedVariant(
        title=(row.get("Name") or "").strip(),
        sku=(row.get("SKU") or "").strip(),
        price=(row.get("Regular price") or "").strip() or "0.00",
        options=options,
        image=images[0] if images else None,
    )


def read_woocommerce_csv(path: Path | str) -> list[SeedProduct]:
    """Return the export's products in file order, each variable product with its variations."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))

    products: list[SeedProduct] = []
    by_reference: dict[str, SeedProduct] = {}
    orphans: list[tuple[str, SeedVariant]] = []
    for row in rows:
        if _kind(row.get("Type") or "") == "variation":
            orphans.append(((row.get("Parent") or "").strip(), _variant(row)))
            continue
        product = _product(row)
        products.append(product)
        if product.sku:
            by_reference[product.sku] = product
        if (row.get("ID") or "").strip():
            by_reference[f"id:{row['ID'].strip()}"] = product

    for reference, variant in orphans:
        parent = by_reference.get(reference)
        if parent is not None:
            parent.variants.append(variant)
    return products
