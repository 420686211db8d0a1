"""Resolvers that turn the catalogue into Admin API objects: products, variants, media, pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema

from simulators.shopify.search import SearchSyntaxError, parse_search
from simulators.shopify.state import SimMedia, SimProduct, SimVariant, gid, iso, parse_gid

Info = GraphQLResolveInfo[Any]

if TYPE_CHECKING:
    from simulators.shopify.shop import ShopifyState

MAX_PAGE = 250


class RequestContext:
    """What resolvers of one request need: the shop state, its address, and the bulk switch."""

    def __init__(self, state: ShopifyState, *, bulk_ids: list[int] | None = None) -> None:
        self.state = state
        # In a bulk operation connections have no page size; the products
        # connection then yields only these ids (one chunk of the export).
        self.bulk_ids = bulk_ids

    @property
    def bulk(self) -> bool:
        return self.bulk_ids is not None


def encode_cursor(value: object, number: int) -> str:
    raw = json.dumps({"last_id": number, "last_value": str(value)})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(data["last_value"]), int(data["last_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise GraphQLError(
            "Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"}
        ) from error


def page_size(args: dict[str, Any], context: RequestContext) -> int:
    if context.bulk:
        return 10**9
    size = args.get("first") or args.get("last")
    if size is None:
        raise GraphQLError(
            "you must provide one of first or last", extensions={"code": "BAD_REQUEST"}
        )
    if size > MAX_PAGE:
        raise GraphQLError(
            f"The maximum number of items that can be requested is {MAX_PAGE}.",
            extensions={"code": "BAD_REQUEST"},
        )
    return int(size)


def connection(items: Iterable[tuple[str, Any]], size: int, has_previous: bool) -> dict[str, Any]:
    """Build a connection from ``(cursor, node)`` pairs, reading at most ``size`` + 1 of them."""
    taken: list[tuple[str, Any]] = []
    has_next = False
    for pair in items:
        if len(taken) == size:
            has_next = True
            break
        taken.append(pair)
    return {
        "nodes": [node for _, node in taken],
        "edges": [{"cursor": cursor, "node": node} for cursor, node in taken],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": taken[0][0] if taken else None,
            "endCursor": taken[-1][0] if taken else None,
        },
    }


def list_connection(
    items: list[Any], args: dict[str, Any], context: RequestContext
) -> dict[str, Any]:
    """Page a short list (media, variants) by position."""
    size = page_size(args, context)
    ordered = list(reversed(items)) if args.get("reverse") else items
    start = 0
    if args.get("after"):
        start = decode_cursor(args["after"])[1] + 1
    pairs = (
        (encode_cursor("", index), item) for index, item in enumerate(ordered) if index >= start
    )
    return connection(pairs, size, start > 0)


# Root fields


def resolve_products(_root: None, info: Info, **args: Any) -> dict[str, Any]:
    context: RequestContext = info.context
    catalogue = context.state.catalogue
    if context.bulk_ids is not None:
        chosen = (
            catalogue.products[number]
            for number in context.bulk_ids
            if number in catalogue.products
        )
        return connection(((encode_cursor("", p.id), p) for p in chosen), 10**9, False)

    size = page_size(args, context)
    try:
        matches = parse_search(args.get("query"))
    except SearchSyntaxError as error:
        raise GraphQLError(str(error), extensions={"code": "BAD_REQUEST"}) from error
    sort_key = args.get("sortKey") or "ID"
    after = decode_cursor(args["after"]) if args.get("after") else None
    products = catalogue.ordered(sort_key, after, bool(args.get("reverse")))
    pairs = ((product_cursor(p, sort_key), p) for p in products if matches(p))
    return connection(pairs, size, after is not None)


def product_cursor(product: SimProduct, sort_key: str) -> str:
    value: object = product.id
    if sort_key == "UPDATED_AT":
        value = product.updated_at.isoformat()
    return encode_cursor(value, product.id)


def resolve_products_count(_root: None, info: Info, **args: Any) -> dict[str, Any]:
    catalogue = info.context.state.catalogue
    try:
        matches = parse_search(args.get("query"))
    except SearchSyntaxError as error:
        raise GraphQLError(str(error), extensions={"code": "BAD_REQUEST"}) from error
    count = sum(1 for product in catalogue.products.values() if matches(product))
    limit = args.get("limit")
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def resolve_product(_root: None, info: Info, id: str) -> SimProduct | None:  # noqa: A002
    number = parse_gid(id, "Product")
    return info.context.state.catalogue.products.get(number) if number is not None else None


def resolve_node(_root: None, info: Info, id: str) -> Any:  # noqa: A002
    return info.context.state.find_node(id)


def resolve_nodes(_root: None, info: Info, ids: list[str]) -> list[Any]:
    return [info.context.state.find_node(value) for value in ids]


def resolve_node_type(value: Any, _info: Info, _type: Any) -> str:
    if isinstance(value, SimProduct):
        return "Product"
    if isinstance(value, SimMedia):
        return "MediaImage"
    if isinstance(value, SimVariant):
        return "ProductVariant"
    return str(value.get("__typename"))


# Product


def resolve_product_media(product: SimProduct, info: Info, **args: Any) -> dict[str, Any]:
    media = info.context.state.catalogue.product_media(product)
    return list_connection(media, args, info.context)


def resolve_featured_media(product: SimProduct, info: Info) -> SimMedia | None:
    media = info.context.state.catalogue.product_media(product)
    return media[0] if media else None


def resolve_variants(product: SimProduct, info: Info, **args: Any) -> dict[str, Any]:
    return list_connection(product.variants, args, info.context)


def resolve_variant_media(variant: SimVariant, info: Info, **args: Any) -> dict[str, Any]:
    catalogue = info.context.state.catalogue
    media = [catalogue.media[number] for number in variant.media_ids if number in catalogue.media]
    return list_connection(media, args, info.context)


def resolve_variant_image(variant: SimVariant, info: Info) -> dict[str, Any] | None:
    catalogue = info.context.state.catalogue
    for number in variant.media_ids:
        media = catalogue.media.get(number)
        if media is not None and media.status == "READY":
            return image_view(media, info.context.state)
    return None


def image_view(media: SimMedia, state: ShopifyState) -> dict[str, Any]:
    return {
        "id": gid("ImageSource", media.id),
        "url": state.cdn_url(media),
        "width": media.width,
        "height": media.height,
        "altText": media.alt,
    }


def resolve_media_image(media: SimMedia, info: Info) -> dict[str, Any] | None:
    if media.status != "READY":
        return None
    return image_view(media, info.context.state)


def resolve_media_errors(media: SimMedia, _info: Info) -> list[dict[str, Any]]:
    if media.error is None:
        return []
    code, message = media.error
    return [{"code": code, "details": message, "message": message}]


def resolve_preview(media: SimMedia, info: Info) -> dict[str, Any]:
    return {"image": resolve_media_image(media, info), "status": media.status}


def attribute(name: str, convert: Any = None) -> Any:
    def resolve(value: Any, _info: Info, **_args: Any) -> Any:
        result = getattr(value, name)
        return convert(result) if convert is not None else result

    return resolve


def install(schema: GraphQLSchema, resolvers: dict[str, dict[str, Any]]) -> None:
    """Set field resolvers (type -> field -> function) on ``schema``."""
    for type_name, fields in resolvers.items():
        graphql_type = schema.get_type(type_name)
        for field_name, function in fields.items():
            graphql_type.fields[field_name].resolve = function  # type: ignore[union-attr]


READ_RESOLVERS: dict[str, dict[str, Any]] = {
    "QueryRoot": {
        "products": resolve_products,
        "productsCount": resolve_products_count,
        "product": resolve_product,
        "node": resolve_node,
        "nodes": resolve_nodes,
    },
    "Product": {
        "id": attribute("gid"),
        "title": attribute("title"),
        "handle": attribute("handle"),
        "productType": attribute("product_type"),
        "vendor": attribute("vendor"),
        "tags": attribute("tags"),
        "status": attribute("status"),
        "createdAt": attribute("created_at", iso),
        "updatedAt": attribute("updated_at", iso),
        "featuredMedia": resolve_featured_media,
        "media": resolve_product_media,
        "variants": resolve_variants,
    },
    "ProductVariant": {
        "id": attribute("id", lambda number: gid("ProductVariant", number)),
        "title": attribute("title"),
        "sku": attribute("sku"),
        "updatedAt": attribute("updated_at", iso),
        "image": resolve_variant_image,
        "media": resolve_variant_media,
    },
    "MediaImage": {
        "id": attribute("gid"),
        "alt": attribute("alt"),
        "createdAt": attribute("created_at", iso),
        "updatedAt": attribute("updated_at", iso),
        "status": attribute("status"),
        "fileStatus": attribute("status"),
        "mediaContentType": lambda _media, _info: "IMAGE",
        "mimeType": attribute("mime"),
        "image": resolve_media_image,
        "mediaErrors": resolve_media_errors,
        "fileErrors": resolve_media_errors,
        "preview": resolve_preview,
    },
}
