"""WooCommerce product and variation JSON as ``CatalogueItem`` records.

Times come from the ``*_gmt`` fields (zone-less UTC); the site-local fields
differ whenever the site is not on UTC. Our images are recognised by the
marker file name in the image ``name`` (kept as sent) or in its ``src``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    CatalogueItem,
    StoreImage,
    StoreVariant,
    marker_generation_id,
)

WIRE_DATE = "%Y-%m-%dT%H:%M:%S"


def parse_gmt(value: Any) -> datetime | None:
    """Parse a zone-less ``*_gmt`` field into an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value[:19], WIRE_DATE).replace(tzinfo=UTC)
    except ValueError:
        return None


def wire_gmt(moment: datetime) -> str:
    """Format an aware time as the naive UTC value ``dates_are_gmt=true`` expects."""
    return moment.astimezone(UTC).strftime(WIRE_DATE)


def image_record(image: Mapping[str, Any], position: int) -> StoreImage:
    name = str(image.get("name") or "")
    src = str(image.get("src") or "")
    return StoreImage(
        id=str(image.get("id", "")),
        url=src,
        alt=image.get("alt") or None,
        position=position,
        generation_id=marker_generation_id(name) or marker_generation_id(src),
    )


def variant_record(variation: Mapping[str, Any]) -> StoreVariant:
    image = variation.get("image")
    title = variation.get("name") or ", ".join(
        str(a.get("option", "")) for a in variation.get("attributes") or [] if isinstance(a, dict)
    )
    return StoreVariant(
        id=str(variation.get("id", "")),
        title=str(title),
        image=image_record(image, 0) if isinstance(image, dict) and image.get("id") else None,
    )


def category_path(
    categories: list[Mapping[str, Any]], paths: Mapping[int, tuple[str, ...]]
) -> tuple[str, ...]:
    """Return the longest root-first path among the product's categories."""
    best: tuple[str, ...] = ()
    for category in categories:
        path = paths.get(int(category.get("id") or 0)) or (str(category.get("name", "")),)
        if len(path) > len(best):
            best = path
    return best


def catalogue_item(
    product: Mapping[str, Any],
    *,
    variations: Sequence[Mapping[str, Any]] = (),
    category_paths: Mapping[int, tuple[str, ...]] | None = None,
) -> CatalogueItem:
    """Translate a product (and its variations, when fetched) into a ``CatalogueItem``."""
    updated = (
        parse_gmt(product.get("date_modified_gmt"))
        or parse_gmt(product.get("date_created_gmt"))
        or datetime.now(UTC)
    )
    images = product.get("images") or []
    return CatalogueItem(
        product_id=str(product["id"]),
        title=str(product.get("name", "")),
        updated_at=updated,
        status=str(product.get("status", "")),
        product_type=product.get("type") or None,
        categories=category_path(product.get("categories") or [], category_paths or {}),
        tags=tuple(
            str(t.get("name", "")) for t in product.get("tags") or [] if isinstance(t, dict)
        ),
        images=tuple(image_record(image, i) for i, image in enumerate(images)),
        variants=tuple(variant_record(v) for v in variations),
    )
