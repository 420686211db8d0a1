"""Read catalogues for the simulator: Shopify's product CSV export and REST product JSON.

The CSV has one row per variant or extra image; rows of one product share its
``Handle`` and only the first carries the product columns. Image files are not
downloaded: the simulator draws a placeholder under the source's file name.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from simulators.catalogue import SeedImage, SeedProduct, SeedVariant


def file_name(url: str) -> str:
    """Return the last path segment of an image URL, without its query string."""
    path = urlsplit(url.strip()).path
    return path.rsplit("/", 1)[-1] or "image.png"


def read_shopify_csv(path: str | Path) -> list[SeedProduct]:
    """Read a Shopify product CSV export (or the admin's import template) into seed products."""
    products: dict[str, SeedProduct] = {}
    option_names: dict[str, list[str]] = {}
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            handle_value = (row.get("Handle") or "").strip()
            if not handle_value:
                continue
            product = products.get(handle_value)
            if product is None:
                product = new_product(row)
                products[handle_value] = product
                option_names[handle_value] = [
                    (row.get(f"Option{n} Name") or "").strip() for n in (1, 2, 3)
                ]
            add_image(product, row)
            add_variant(product, row, option_names[handle_value])
    return list(products.values())


def new_product(row: dict[str, str]) -> SeedProduct:
    category = (row.get("Product Category") or "").strip()
    return SeedProduct(
        title=(row.get("Title") or row["Handle"]).strip(),
        status=(row.get("Status") or "active").strip().lower() or "active",
        description=row.get("Body (HTML)") or "",
        product_type=(row.get("Type") or "").strip(),
        vendor=(row.get("Vendor") or "").strip(),
        categories=[[part.strip() for part in category.split(">")]] if category else [],
        tags=[tag.strip() for tag in (row.get("Tags") or "").split(",") if tag.strip()],
    )


def add_image(product: SeedProduct, row: dict[str, str]) -> None:
    source = (row.get("Image Src") or "").strip()
    if not source:
        return
    name = file_name(source)
    if all(image.filename != name for image in product.images):
        product.images.append(SeedImage(name, (row.get("Image Alt Text") or "").strip()))


def add_variant(product: SeedProduct, row: dict[str, str], names: list[str]) -> None:
    values = [(row.get(f"Option{n} Value") or "").strip() for n in (1, 2, 3)]
    sku = (row.get("Variant SKU") or "").strip()
    if not any(values) and not sku:
        return
    options = {name: value for name, value in zip(names, values, strict=True) if name and value}
    image_source = (row.get("Variant Image") or "").strip()
    image = SeedImage(file_name(image_source)) if image_source else None
    product.variants.append(
        SeedVariant(
            title=" / ".join(v for v in values if v) or "Default Title",
            sku=sku,
            price=(row.get("Variant Price") or "0.00").strip(),
            options=options,
            image=image,
        )
    )


def read_rest_products(path: str | Path) -> list[SeedProduct]:
    """Read REST-shaped product JSON: one product, a list, ``{"products": [...]}``, or a
    webhook sample whose ``response`` holds the product."""
    data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("response"), dict):
        data = data["response"]
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    entries = data if isinstance(data, list) else [data]
    return [seed_from_rest(entry) for entry in entries if isinstance(entry, dict)]


def seed_from_rest(entry: dict[str, Any]) -> SeedProduct:
    images = [
        SeedImage(file_name(str(image.get("src") or "image.png")), str(image.get("alt") or ""))
        for image in entry.get("images") or []
    ]
    variants = [
        SeedVariant(
            title=str(variant.get("title") or "Default Title"),
            sku=str(variant.get("sku") or ""),
            price=str(variant.get("price") or "0.00"),
        )
        for variant in entry.get("variants") or []
    ]
    return SeedProduct(
        title=str(entry.get("title") or "Untitled"),
        status=str(entry.get("status") or "active"),
        description=str(entry.get("body_html") or ""),
        product_type=str(entry.get("product_type") or ""),
        vendor=str(entry.get("vendor") or ""),
        tags=[tag.strip() for tag in str(entry.get("tags") or "").split(",") if tag.strip()],
        images=images,
        variants=variants,
    )


def read_catalogue(path: str | Path) -> list[SeedProduct]:
    """Read a ``.json`` REST product file, or a Shopify or WooCommerce product CSV export."""
    if str(path).lower().endswith(".json"):
        return read_rest_products(path)

    from simulators.catalogue_csv import read_catalogue_csv

    return read_catalogue_csv(path)
