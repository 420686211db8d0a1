"""Turn Shopify's product shapes (GraphQL nodes and REST webhook payloads) into catalogue records.

Ids stay strings: global ids from GraphQL, and for REST payloads the exact
``admin_graphql_api_id`` (numeric REST ids exceed 2**53 and must not pass
through a float). Images this service wrote are recognised by the marker file
name in their URL or alt text. Only images whose processing finished (they
have a URL) are listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from connectors.base import CatalogueItem, StoreImage, StoreVariant, marker_generation_id


def parse_time(value: str | None) -> datetime:
    """Parse Shopify's ISO timestamps (``Z``, offsets, or ``2019-01-01 00:00:00.000Z``) to UTC."""
    if not value:
        return datetime.fromtimestamp(0, UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def store_image(media_id: str, url: str, alt: str | None, position: int) -> StoreImage:
    generation = marker_generation_id(url) or marker_generation_id(alt)
    return StoreImage(
        id=media_id, url=url, alt=alt or None, position=position, generation_id=generation
    )


def images_from_media(nodes: Iterable[dict[str, Any]]) -> tuple[StoreImage, ...]:
    images: list[StoreImage] = []
    for node in nodes:
        image = node.get("image")
        if not image or not image.get("url"):
            continue
        alt = node.get("alt") or image.get("altText")
        images.append(store_image(str(node["id"]), str(image["url"]), alt, len(images)))
    return tuple(images)


def variant_from_node(node: dict[str, Any], images: tuple[StoreImage, ...]) -> StoreVariant:
    """Build a variant; its image is the product image with the same URL when there is one."""
    image = node.get("image")
    found: StoreImage | None = None
    if image and image.get("url"):
        url = str(image["url"])
        found = next((i for i in images if i.url == url), None)
        if found is None:
            found = store_image(str(image.get("id") or url), url, image.get("altText"), 0)
    return StoreVariant(id=str(node["id"]), title=str(node.get("title") or ""), image=found)


def item_from_node(
    node: dict[str, Any],
    media: Iterable[dict[str, Any]] | None = None,
    variants: Iterable[dict[str, Any]] | None = None,
) -> CatalogueItem:
    """Build a record from a GraphQL Product node; bulk lines pass media and variants apart."""
    media_nodes = media if media is not None else connection_nodes(node.get("media"))
    variant_nodes = variants if variants is not None else connection_nodes(node.get("variants"))
    images = images_from_media(media_nodes)
    product_type = node.get("productType") or None
    return CatalogueItem(
        product_id=str(node["id"]),
        title=str(node.get("title") or ""),
        updated_at=parse_time(node.get("updatedAt")),
        status=str(node.get("status") or "").lower(),
        product_type=product_type,
        categories=(product_type,) if product_type else (),
        tags=tuple(str(tag) for tag in node.get("tags") or ()),
        images=images,
        variants=tuple(variant_from_node(v, images) for v in variant_nodes),
    )


def connection_nodes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if "nodes" in value:
        return list(value["nodes"])
    return [edge["node"] for edge in value.get("edges", [])]


def product_gid(payload: dict[str, Any]) -> str:
    """Return the product's global id, from ``admin_graphql_api_id`` or the integer ``id``."""
    value = payload.get("admin_graphql_api_id")
    if isinstance(value, str) and value.startswith("gid://shopify/Product/"):
        return value
    number = payload.get("id")
    if isinstance(number, bool) or not isinstance(number, int | str):
        raise TypeError("product payload has no usable id")
    return f"gid://shopify/Product/{number}"


def item_from_rest(payload: dict[str, Any]) -> CatalogueItem:
    """Build a record from a products/create or products/update payload (REST shape)."""
    images = rest_images(payload)
    product_type = payload.get("product_type") or None
    tags = tuple(tag.strip() for tag in str(payload.get("tags") or "").split(",") if tag.strip())
    variants = []
    for variant in payload.get("variants") or []:
        image = next((i for i in images if rest_id(i.id) == str(variant.get("image_id"))), None)
        variant_id = (
            variant.get("admin_graphql_api_id")
            or f"gid://shopify/ProductVariant/{variant.get('id')}"
        )
        variants.append(
            StoreVariant(id=str(variant_id), title=str(variant.get("title") or ""), image=image)
        )
    return CatalogueItem(
        product_id=product_gid(payload),
        title=str(payload.get("title") or ""),
        updated_at=parse_time(payload.get("updated_at")),
        status=str(payload.get("status") or "").lower(),
        product_type=product_type,
        categories=(product_type,) if product_type else (),
        tags=tags,
        images=images,
        variants=tuple(variants),
    )


def rest_images(payload: dict[str, Any]) -> tuple[StoreImage, ...]:
    """Prefer ``media`` (its ids match GraphQL's MediaImage ids); fall back to ``images``."""
    images: list[StoreImage] = []
    media = payload.get("media")
    if media:
        for entry in sorted(media, key=lambda m: m.get("position") or 0):
            preview = entry.get("preview_image") or {}
            url = preview.get("src")
            status = str(entry.get("status") or "ready").lower()
            if not url or status != "ready":
                continue
            media_id = (
                entry.get("admin_graphql_api_id") or f"gid://shopify/MediaImage/{entry.get('id')}"
            )
            images.append(store_image(str(media_id), str(url), entry.get("alt"), len(images)))
        return tuple(images)
    for entry in sorted(payload.get("images") or [], key=lambda i: i.get("position") or 0):
        if not entry.get("src"):
            continue
        image_id = (
            entry.get("admin_graphql_api_id") or f"gid://shopify/ProductImage/{entry.get('id')}"
        )
        images.append(store_image(str(image_id), str(entry["src"]), entry.get("alt"), len(images)))
    return tuple(images)


def rest_id(global_id: str) -> str:
    return global_id.rsplit("/", 1)[-1]
