"""Variation routes: /products/{pid}/variations[/{id}]; a variation has one ``image`` or null."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.woocommerce.images_field import commit_images, plan_images
from simulators.woocommerce.listing import paged_response
from simulators.woocommerce.model import Product, Variation
from simulators.woocommerce.params import ParamErrors, int_param, raise_param_errors
from simulators.woocommerce.products import check_sku, invalid_id, is_forced
from simulators.woocommerce.render import variation_json
from simulators.woocommerce.routing import ApiError, Ctx
from simulators.woocommerce.wire import json_response


def _parent(ctx: Ctx, status: int) -> Product:
    product = ctx.state.products.get(ctx.ids["pid"])
    if product is None:
        raise invalid_id(status)
    return product


def _variation(ctx: Ctx, status: int) -> Variation:
    parent = _parent(ctx, status)
    variation = ctx.state.variations.get(ctx.ids["id"])
    if variation is None or variation.parent_id != parent.id:
        raise ApiError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", status)
    return variation


async def list_variations(ctx: Ctx) -> web.Response:
    ctx.require("list")
    parent = _parent(ctx, 404)
    query = dict(ctx.request.query.items())
    errors: ParamErrors = {}
    page = int_param(errors, query, "page", 1, 1, None)
    per_page = int_param(errors, query, "per_page", 10, 1, 100)
    raise_param_errors(errors)

    ascending = query.get("order") == "asc"
    ids = sorted(parent.variation_ids, reverse=not ascending)
    rows = [ctx.state.variations[i] for i in ids if i in ctx.state.variations]
    start = (page - 1) * per_page
    window = [variation_json(ctx.state, v, ctx.home) for v in rows[start : start + per_page]]
    return paged_response(ctx, window, len(rows), page, per_page)


async def get_variation(ctx: Ctx) -> web.Response:
    ctx.require("view")
    return json_response(variation_json(ctx.state, _variation(ctx, 404), ctx.home))


async def _save(ctx: Ctx, variation: Variation, body: dict[str, Any]) -> None:
    check_sku(ctx.state, body, variation.id)
    image = body.get("image")
    if image is not None and not isinstance(image, dict):
        raise_param_errors({"image": ("rest_invalid_type", "image is not of type object.")})
    plan = await plan_images(ctx, [image]) if image else None

    for name in ("sku", "regular_price", "status", "description"):
        if isinstance(body.get(name), str):
            setattr(variation, name, body[name])
    if isinstance(body.get("attributes"), list):
        variation.options = {
            a["name"]: a.get("option", "")
            for a in body["attributes"]
            if isinstance(a, dict) and "name" in a
        }
    if plan is not None:
        variation.image_id = commit_images(ctx.state, plan, variation.parent_id)[0]
    elif "image" in body:
        variation.image_id = None


async def create_variation(ctx: Ctx) -> web.Response:
    ctx.require("create")
    body = await ctx.json_body()
    parent = _parent(ctx, 404)
    now = ctx.state.now()
    variation = Variation(ctx.state.allocate_post_id(), parent.id, "", "", {}, now, now)
    await _save(ctx, variation, body)

    ctx.state.variations[variation.id] = variation
    parent.variation_ids.append(variation.id)
    parent.date_modified_gmt = now
    ctx.state.emit("created", variation.id, variation=True)
    return json_response(variation_json(ctx.state, variation, ctx.home), status=201)


async def update_variation(ctx: Ctx) -> web.Response:
    ctx.require("edit")
    body = await ctx.json_body()
    variation = _variation(ctx, 400)
    await _save(ctx, variation, body)
    ctx.state.touch_variation(variation)
    return json_response(variation_json(ctx.state, variation, ctx.home))


async def delete_variation(ctx: Ctx) -> web.Response:
    ctx.require("delete")
    variation = _variation(ctx, 404)
    if not is_forced(ctx):
        raise ApiError(
            "woocommerce_rest_trash_not_supported", "The variation does not support trashing.", 501
        )
    previous = variation_json(ctx.state, variation, ctx.home)
    del ctx.state.variations[variation.id]
    parent = ctx.state.products.get(variation.parent_id)
    if parent is not None:
        parent.variation_ids.remove(variation.id)
    return json_response(previous)
