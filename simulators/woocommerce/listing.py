"""GET /products: filters, ordering, paging headers and Link URLs as WooCommerce 7.9 sends them.

The default order (by date) has no tie-breaker in WooCommerce 7.9, so products
created in the same second come back in an order that changes from page to
page: offset paging then repeats some and skips others. The simulator keeps
that: ties are broken by a hash that depends on the page number.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from aiohttp import web

from simulators.woocommerce.model import Product
from simulators.woocommerce.params import (
    ParamErrors,
    bool_param,
    date_param,
    enum_param,
    id_list_param,
    int_param,
    raise_param_errors,
)
from simulators.woocommerce.render import product_json
from simulators.woocommerce.routing import Ctx
from simulators.woocommerce.state import WooState
from simulators.woocommerce.wire import json_response, local_time

ORDERBY = (
    "date",
    "modified",
    "id",
    "include",
    "title",
    "slug",
    "price",
    "popularity",
    "rating",
    "menu_order",
)
STATUSES = ("any", "future", "trash", "draft", "pending", "private", "publish")
TYPES = ("simple", "grouped", "external", "variable")


def parse_query(ctx: Ctx) -> dict[str, Any]:
    query = dict(ctx.request.query.items())
    zone = ctx.state.zone
    errors: ParamErrors = {}
    parsed: dict[str, Any] = {
        "page": int_param(errors, query, "page", 1, 1, None),
        "per_page": int_param(errors, query, "per_page", 10, 1, 100),
        "order": enum_param(errors, query, "order", "desc", ("asc", "desc")),
        "orderby": enum_param(errors, query, "orderby", "date", ORDERBY),
        "status": enum_param(errors, query, "status", "any", STATUSES),
        "include": id_list_param(errors, query, "include"),
        "dates_are_gmt": bool_param(errors, query, "dates_are_gmt"),
        "search": query.get("search"),
        "sku": query.get("sku"),
    }
    if "type" in query:
        parsed["type"] = enum_param(errors, query, "type", "simple", TYPES)
    for name in ("modified_after", "modified_before", "after", "before"):
        parsed[name] = date_param(errors, query, name, zone)
    raise_param_errors(errors)
    return parsed


def matches(state: WooState, product: Product, query: dict[str, Any]) -> bool:
    status = query["status"]
    if status == "any" and product.status in ("trash", "auto-draft"):
        return False
    if status != "any" and product.status != status:
        return False
    if "type" in query and product.type != query["type"]:
        return False
    if query["include"] is not None and product.id not in query["include"]:
        return False
    if query["sku"] and product.sku not in query["sku"].split(","):
        return False
    if query["search"] and query["search"].lower() not in product.name.lower():
        return False
    return _dates_match(state, product, query)


def _column(state: WooState, gmt: datetime, dates_are_gmt: bool) -> datetime:
    return gmt if dates_are_gmt else local_time(gmt, state.zone)


def _dates_match(state: WooState, product: Product, query: dict[str, Any]) -> bool:
    gmt_flag = query["dates_are_gmt"]
    modified = _column(state, product.date_modified_gmt, gmt_flag)
    created = _column(state, product.date_created_gmt, gmt_flag)
    checks = (
        (query["modified_after"], modified, 1),
        (query["modified_before"], modified, -1),
        (query["after"], created, 1),
        (query["before"], created, -1),
    )
    for bound, column, direction in checks:
        if bound is None:
            continue
        if direction == 1 and not column > bound:
            return False
        if direction == -1 and not column < bound:
            return False
    return True


def _tie(product_id: int, page: int) -> str:
    return hashlib.md5(f"{product_id}:{page}".encode(), usedforsecurity=False).hexdigest()


def ordered(products: list[Product], query: dict[str, Any]) -> list[Product]:
    orderby, descending, page = query["orderby"], query["order"] == "desc", query["page"]
    if orderby == "id":
        return sorted(products, key=lambda p: p.id, reverse=descending)
    if orderby == "include" and query["include"]:
        position = {pid: i for i, pid in enumerate(query["include"])}
        return sorted(products, key=lambda p: position.get(p.id, 0))
    keys = {
        "title": lambda p: p.name.lower(),
        "slug": lambda p: p.slug,
        "modified": lambda p: p.date_modified_gmt.isoformat(),
        "price": lambda p: f"{float(p.regular_price or 0):020.4f}",
    }
    key = keys.get(orderby, lambda p: p.date_created_gmt.isoformat())
    # No tie-breaker: equal keys come back in an order that differs per page.
    first = sorted(products, key=lambda p: _tie(p.id, page))
    return sorted(first, key=key, reverse=descending)


def link_header(ctx: Ctx, page: int, total_pages: int) -> str | None:
    """Return the Link header with rel prev/next; its URLs repeat every query parameter."""
    base = f"{ctx.home}{ctx.request.path}"

    def url_for(target: int) -> str:
        pairs, seen = [], False
        for name, value in ctx.request.query.items():
            if name == "page":
                if seen:
                    continue
                value, seen = str(target), True
            pairs.append(f"{quote_plus(name)}={quote_plus(value, safe='-_.')}")
        if not seen:
            pairs.append(f"page={target}")
        return f"{base}?{'&'.join(pairs)}"

    links = []
    if page > 1:
        links.append(f'<{url_for(min(page - 1, total_pages))}>; rel="prev"')
    if page < total_pages:
        links.append(f'<{url_for(page + 1)}>; rel="next"')
    return ", ".join(links) or None


def paged_response(
    ctx: Ctx, window: list[Any], total: int, page: int, per_page: int
) -> web.Response:
    """Return one page of rows with X-WP-Total, X-WP-TotalPages (decimal strings) and Link."""
    total_pages = math.ceil(total / per_page) if total else 0
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(total_pages), "Allow": "GET, POST"}
    link = link_header(ctx, page, total_pages)
    if link:
        headers["Link"] = link
    return json_response(window, headers=headers)


async def list_products(ctx: Ctx) -> web.Response:
    ctx.require("list")
    query = parse_query(ctx)
    state = ctx.state
    found = [p for p in state.products.values() if matches(state, p, query)]
    rows = ordered(found, query)
    page, per_page = query["page"], query["per_page"]

    start = (page - 1) * per_page
    window = [product_json(state, p, ctx.home) for p in rows[start : start + per_page]]
    return paged_response(ctx, window, len(rows), page, per_page)
