"""Single-product routes: GET, POST, PUT and DELETE /products[/{id}].

Errors follow WooCommerce 7.9: an unknown id is 404 on GET and DELETE but 400
on PUT; DELETE without ``force`` trashes the product and returns it with its
old status, a second one is 410; a duplicate SKU is 400 ``product_invalid_sku``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.woocommerce.images_field import commit_images, plan_images
from simulators.woocommerce.model import Product
from simulators.woocommerce.params import ParamErrors, raise_param_errors
from simulators.woocommerce.render import product_json, variation_as_product_json
from simulators.woocommerce.routing import ApiError, Ctx
from simulators.woocommerce.state import WooState
from simulators.woocommerce.text import sanitize_title
from simulators.woocommerce.wire import json_response

STATUSES = ("draft", "pending", "private", "publish", "future", "auto-draft", "trash")
TYPES = ("simple", "grouped", "external", "variable")
TRUE_VALUES = ("true", "1", "yes")


def invalid_id(status: int) -> ApiError:
    return ApiError("woocommerce_rest_product_invalid_id", "Invalid ID.", status)


def validate_body(body: dict[str, Any]) -> None:
    """Check field types as WordPress's schema validation does before the handler runs."""
    errors: ParamErrors = {}
    if "status" in body and body["status"] not in STATUSES:
        listed = ", ".join(STATUSES[:-1]) + ", and " + STATUSES[-1]
        errors["status"] = ("rest_not_in_enum", f"status is not one of {listed}.")
    if "type" in body and body["type"] not in TYPES:
        listed = ", ".join(TYPES[:-1]) + ", and " + TYPES[-1]
        errors["type"] = ("rest_not_in_enum", f"type is not one of {listed}.")
    images = body.get("images")
    if "images" in body and (
        not isinstance(images, list) or not all(isinstance(i, dict) for i in images)
    ):
        errors["images"] = ("rest_invalid_type", "images[0] is not of type object.")
    for name in ("name", "sku", "regular_price", "description", "short_description"):
        if name in body and not isinstance(body[name], str):
            errors[name] = ("rest_invalid_type", f"{name} is not of type string.")
    raise_param_errors(errors)


def check_sku(state: WooState, body: dict[str, Any], own_id: int) -> None:
    sku = body.get("sku")
    if not sku:
        return
    owner = state.sku_owner(sku)
    if owner is not None and owner != own_id:
        raise ApiError(
            "product_invalid_sku",
            "Invalid or duplicated SKU.",
            400,
            resource_id=owner,
            unique_sku=f"{sku}-1",
        )


def apply_fields(state: WooState, product: Product, body: dict[str, Any]) -> None:
    if "name" in body:
        product.name = sanitize_title(body["name"])
    for name in ("sku", "regular_price", "description", "short_description", "status", "type"):
        if name in body:
            setattr(product, name, body[name])
    if "featured" in body:
        product.featured = bool(body["featured"])
    if isinstance(body.get("categories"), list):
        ids = [c.get("id") for c in body["categories"] if isinstance(c, dict)]
        product.category_ids = [i for i in ids if i in state.categories]
    if isinstance(body.get("tags"), list):
        product.tags = [t["name"] for t in body["tags"] if isinstance(t, dict) and "name" in t]
    if isinstance(body.get("meta_data"), list):
        product.meta_data = [m for m in body["meta_data"] if isinstance(m, dict)]


async def save_product(ctx: Ctx, product: Product | None, body: dict[str, Any]) -> Product:
    """Create or update a product; an image failure leaves everything unchanged."""
    state = ctx.state
    validate_body(body)
    check_sku(state, body, product.id if product else 0)
    plan = await plan_images(ctx, body["images"]) if "images" in body else None

    if product is None:
        product = state.new_product(body.get("name") or "Product", kind=body.get("type", "simple"))
    apply_fields(state, product, body)
    if plan is not None:
        product.image_ids = commit_images(state, plan, product.id)
    return product


async def get_product(ctx: Ctx) -> web.Response:
    ctx.require("view")
    state, resource_id = ctx.state, ctx.ids["id"]
    if resource_id in state.variations:
        return json_response(
            variation_as_product_json(state, state.variations[resource_id], ctx.home)
        )
    product = state.products.get(resource_id)
    if product is None:
        raise invalid_id(404)
    return json_response(product_json(state, product, ctx.home))


async def create_product(ctx: Ctx) -> web.Response:
    ctx.require("create")
    body = await ctx.json_body()
    product = await save_product(ctx, None, body)
    ctx.state.emit("created", product.id)
    return json_response(product_json(ctx.state, product, ctx.home, edit=True), status=201)


async def update_product(ctx: Ctx) -> web.Response:
    ctx.require("edit")
    body = await ctx.json_body()
    validate_body(body)
    product = ctx.state.products.get(ctx.ids["id"])
    if product is None:
        raise invalid_id(400)

    was_trashed = product.status == "trash"
    await save_product(ctx, product, body)
    ctx.state.touch(product)
    if was_trashed and product.status != "trash":
        ctx.state.emit("restored", product.id)
    return json_response(product_json(ctx.state, product, ctx.home, edit=True))


def is_forced(ctx: Ctx) -> bool:
    return ctx.request.query.get("force", "false").lower() in TRUE_VALUES


def delete_product_record(state: WooState, product: Product, force: bool) -> None:
    """Trash (webhook ``product.deleted``) or delete for good (no webhook); media stay."""
    if force:
        for variation_id in product.variation_ids:
            state.variations.pop(variation_id, None)
        del state.products[product.id]
        return
    product.status = "trash"
    state.touch(product, event="deleted")


async def delete_product(ctx: Ctx) -> web.Response:
    ctx.require("delete")
    product = ctx.state.products.get(ctx.ids["id"])
    if product is None:
        raise invalid_id(404)

    force = is_forced(ctx)
    if not force and product.status == "trash":
        raise ApiError(
            "woocommerce_rest_already_trashed", "The product has already been deleted.", 410
        )
    previous = product_json(ctx.state, product, ctx.home, edit=True)
    delete_product_record(ctx.state, product, force)
    return json_response(previous)
