"""Batch writes, categories, webhooks and system status.

Batch: at most 100 items in all (413 above); each item's failure comes back
inside the 200; batch deletes are permanent and fire no webhook. Creating a
webhook pings its URL before the response; listing webhooks never shows secrets.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from simulators.woocommerce.listing import paged_response
from simulators.woocommerce.model import Webhook
from simulators.woocommerce.params import ParamErrors, int_param, raise_param_errors
from simulators.woocommerce.products import delete_product_record, save_product
from simulators.woocommerce.render import category_json, product_json, webhook_json
from simulators.woocommerce.routing import ApiError, Ctx
from simulators.woocommerce.text import slugify
from simulators.woocommerce.webhooks import TOPICS
from simulators.woocommerce.wire import json_response

BATCH_LIMIT = 100


def _item_error(item_id: Any, error: ApiError) -> dict[str, Any]:
    return {"id": item_id, "error": error.body()}


async def batch_products(ctx: Ctx) -> web.Response:
    ctx.require("batch")
    body = await ctx.json_body()
    groups = {name: body.get(name) or [] for name in ("create", "update", "delete")}
    if sum(len(items) for items in groups.values()) > BATCH_LIMIT:
        raise ApiError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            413,
        )

    result: dict[str, list[Any]] = {}
    if groups["create"]:
        result["create"] = [await _batch_create(ctx, item) for item in groups["create"]]
    if groups["update"]:
        result["update"] = [await _batch_update(ctx, item) for item in groups["update"]]
    if groups["delete"]:
        result["delete"] = [_batch_delete(ctx, item) for item in groups["delete"]]
    return json_response(result)


async def _batch_create(ctx: Ctx, item: Any) -> dict[str, Any]:
    try:
        product = await save_product(ctx, None, item if isinstance(item, dict) else {})
    except ApiError as error:
        return _item_error(0, error)
    ctx.state.emit("created", product.id)
    return product_json(ctx.state, product, ctx.home, edit=True)


async def _batch_update(ctx: Ctx, item: Any) -> dict[str, Any]:
    item_id = item.get("id") if isinstance(item, dict) else None
    product = ctx.state.products.get(item_id) if isinstance(item_id, int) else None
    if product is None:
        error = ApiError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
        return _item_error(item_id, error)
    try:
        await save_product(ctx, product, item)
    except ApiError as error:
        return _item_error(item_id, error)
    ctx.state.touch(product)
    return product_json(ctx.state, product, ctx.home, edit=True)


def _batch_delete(ctx: Ctx, item_id: Any) -> dict[str, Any]:
    product = ctx.state.products.get(item_id) if isinstance(item_id, int) else None
    if product is None:
        error = ApiError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return _item_error(item_id, error)
    previous = product_json(ctx.state, product, ctx.home, edit=True)
    # Batch deletes are permanent and fire no webhook.
    delete_product_record(ctx.state, product, force=True)
    return previous


def _paging(ctx: Ctx) -> tuple[int, int]:
    query = dict(ctx.request.query.items())
    errors: ParamErrors = {}
    page = int_param(errors, query, "page", 1, 1, None)
    per_page = int_param(errors, query, "per_page", 10, 1, 100)
    raise_param_errors(errors)
    return page, per_page


async def list_categories(ctx: Ctx) -> web.Response:
    ctx.require("list")
    page, per_page = _paging(ctx)
    categories = sorted(ctx.state.categories.values(), key=lambda c: c.name.lower())
    counts: dict[int, int] = {}
    for product in ctx.state.products.values():
        for category_id in product.category_ids:
            counts[category_id] = counts.get(category_id, 0) + 1

    start = (page - 1) * per_page
    window = [
        category_json(c, ctx.home, counts.get(c.id, 0))
        for c in categories[start : start + per_page]
    ]
    return paged_response(ctx, window, len(categories), page, per_page)


async def create_category(ctx: Ctx) -> web.Response:
    ctx.require("create")
    body = await ctx.json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise_param_errors(
            {"name": ("rest_missing_callback_param", "name is a required property.")}
        )
    parent = body.get("parent", 0)
    parent_path = _category_path(ctx, parent if isinstance(parent, int) else 0)
    category_id = ctx.state.category_for_path([*parent_path, str(name)])
    category = ctx.state.categories[category_id]
    category.slug = body.get("slug") or slugify(str(name))
    return json_response(category_json(category, ctx.home, 0), status=201)


def _category_path(ctx: Ctx, category_id: int) -> list[str]:
    path: list[str] = []
    while category_id and category_id in ctx.state.categories:
        category = ctx.state.categories[category_id]
        path.insert(0, category.name)
        category_id = category.parent
    return path


async def list_webhooks(ctx: Ctx) -> web.Response:
    ctx.require("list")
    page, per_page = _paging(ctx)
    webhooks = sorted(ctx.state.webhooks.values(), key=lambda w: w.id)
    start = (page - 1) * per_page
    window = [webhook_json(ctx.state, w, ctx.home) for w in webhooks[start : start + per_page]]
    return paged_response(ctx, window, len(webhooks), page, per_page)


async def create_webhook(ctx: Ctx) -> web.Response:
    ctx.require("create")
    body = await ctx.json_body()
    errors: ParamErrors = {}
    topic, url = body.get("topic"), body.get("delivery_url")
    if topic not in TOPICS:
        errors["topic"] = ("rest_invalid_param", "topic is not a valid topic.")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        errors["delivery_url"] = ("rest_invalid_param", "delivery_url is not a valid URL.")
    raise_param_errors(errors)

    now = ctx.state.now()
    webhook = Webhook(
        id=ctx.state.allocate_webhook_id(),
        name=str(body.get("name") or f"Webhook created on {now:%b %d, %Y @ %I:%M %p}"),
        topic=str(topic),
        delivery_url=str(url),
        secret=str(body.get("secret") or secrets.token_urlsafe(37)),
        status=str(body.get("status") or "active"),
        date_created_gmt=now,
    )
    ctx.state.webhooks[webhook.id] = webhook
    await ctx.webhooks.ping(webhook)
    return json_response(webhook_json(ctx.state, webhook, ctx.home), status=201)


async def update_webhook(ctx: Ctx) -> web.Response:
    ctx.require("edit")
    body = await ctx.json_body()
    webhook = ctx.state.webhooks.get(ctx.ids["id"])
    if webhook is None:
        raise ApiError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
    for name in ("name", "secret", "status", "delivery_url"):
        if isinstance(body.get(name), str) and body[name]:
            setattr(webhook, name, body[name])
    webhook.date_modified_gmt = ctx.state.now()
    if webhook.status == "active":
        webhook.failure_count = 0
    return json_response(webhook_json(ctx.state, webhook, ctx.home))


async def system_status(ctx: Ctx) -> web.Response:
    ctx.require("list")
    return json_response(
        {
            "environment": {
                "home_url": ctx.home,
                "site_url": ctx.home,
                "version": "7.9.0",
                "wp_version": "6.1.9",
            },
            "settings": {"api_enabled": True, "currency": "USD"},
        }
    )
