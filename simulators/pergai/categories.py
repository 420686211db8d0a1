"""Category endpoints: the classification tree with English and Turkish names."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.pergai.responses import (
    ApiError,
    category_view,
    optional_text,
    read_body,
    reply_list,
    reply_record,
    required_text,
    state_of,
)
from simulators.pergai.state import CategoryRecord, PergaiState, new_id


def find_category(state: PergaiState, category_id: str) -> CategoryRecord:
    category = state.categories.get(category_id)
    if category is None:
        raise ApiError(404, f"category {category_id} not found")
    return category


async def list_categories(request: web.Request) -> web.Response:
    views = [category_view(category) for category in state_of(request).categories.values()]
    return reply_list(request, "categories", views)


async def get_category(request: web.Request) -> web.Response:
    category = find_category(state_of(request), request.match_info["id"])
    return reply_record(request, "category", category_view(category))


async def create_category(request: web.Request) -> web.Response:
    """Create a merchant category; ``name`` fills both names unless ``nameTr`` is given."""
    state = state_of(request)
    body = await read_body(request)
    name = required_text(body, "name")
    parent_id = parent_of(state, body, None)

    category = CategoryRecord(
        id=new_id(),
        name_en=name,
        name_tr=optional_text(body, "nameTr") or name,
        parent_id=parent_id,
        type=optional_text(body, "type"),
    )
    state.categories[category.id] = category
    return reply_record(request, "category", category_view(category), status=201)


async def update_category(request: web.Request) -> web.Response:
    state = state_of(request)
    category = editable(state, request.match_info["id"])
    body = await read_body(request)

    if "name" in body:
        category.name_en = required_text(body, "name")
    if "nameTr" in body:
        category.name_tr = required_text(body, "nameTr")
    if "type" in body:
        category.type = optional_text(body, "type")
    if "parentCategoryId" in body:
        category.parent_id = parent_of(state, body, category.id)
    return reply_record(request, "category", category_view(category))


async def delete_category(request: web.Request) -> web.Response:
    state = state_of(request)
    category = editable(state, request.match_info["id"])
    if any(other.parent_id == category.id for other in state.categories.values()):
        raise ApiError(400, f"category {category.id} has subcategories; delete or move them first")

    del state.categories[category.id]
    return web.Response(status=204)


def editable(state: PergaiState, category_id: str) -> CategoryRecord:
    category = find_category(state, category_id)
    if category.is_default:
        raise ApiError(400, f"category {category_id} is a default category and cannot be changed")
    return category


def parent_of(state: PergaiState, body: dict[str, Any], own_id: str | None) -> str | None:
    """Validate ``parentCategoryId``: it must exist and must not be the category or below it."""
    parent_id = body.get("parentCategoryId")
    if parent_id is None:
        return None
    if not isinstance(parent_id, str) or parent_id not in state.categories:
        raise ApiError(400, f"parentCategoryId {parent_id} is not an existing category")

    ancestor: str | None = parent_id
    while ancestor is not None:
        if ancestor == own_id:
            raise ApiError(400, "parentCategoryId would make the category its own ancestor")
        ancestor = state.categories[ancestor].parent_id
    return parent_id
