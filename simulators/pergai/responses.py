"""Response shapes of the simulator: the switchable envelope, JSON errors and record views."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulators.pergai.render import render_result
from simulators.pergai.signing import signed_url
from simulators.pergai.state import (
    CategoryRecord,
    CollectionItemRecord,
    CollectionRecord,
    GenerationRecord,
    PergaiState,
    ProductRecord,
    StoredFile,
    iso,
)

STATE_KEY = web.AppKey("pergai_state", PergaiState)

# Items a listed collection shows as its preview.
PREVIEW_ITEMS = 4


class ApiError(Exception):
    """An error response: the middleware turns it into JSON with ``error`` and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": message, "message": message, "statusCode": status}, status=status
    )


def state_of(request: web.Request) -> PergaiState:
    return request.app[STATE_KEY]


def reply_list(request: web.Request, plural: str, records: list[dict[str, Any]]) -> web.Response:
    """Return a list response in the envelope the settings choose."""
    envelope = state_of(request).settings.envelope
    if envelope == "data":
        return web.json_response({"data": records, "total": len(records)})
    if envelope == "named":
        return web.json_response({plural: records, "total": len(records)})
    return web.json_response(records)


def reply_record(
    request: web.Request, singular: str, record: dict[str, Any], status: int = 200
) -> web.Response:
    """Return a one-record response in the envelope the settings choose."""
    envelope = state_of(request).settings.envelope
    if envelope == "data":
        return web.json_response({"data": record}, status=status)
    if envelope == "named":
        return web.json_response({singular: record}, status=status)
    return web.json_response(record, status=status)


async def read_body(request: web.Request) -> dict[str, Any]:
    """Return the JSON object of the request body; raise a 400 ``ApiError`` otherwise."""
    try:
        body = await request.json()
    except ValueError as error:
        raise ApiError(400, "the request body is not valid JSON") from error
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{name} is required and must be a non-empty string")
    return value


def optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string")
    return value


def sign(request: web.Request, path: str) -> str:
    """Return a signed, expiring URL of a file this simulator serves."""
    settings = state_of(request).settings
    return signed_url(str(request.url.origin()), path, settings.signing_secret, settings.url_ttl)


def product_file_path(product_id: str, filename: str) -> str:
    return f"/files/products/{product_id}/{quote(filename)}"


def generation_file_path(generation_id: str) -> str:
    return f"/files/generations/{generation_id}.png"


def product_view(request: web.Request, product: ProductRecord) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "category": product.category,
        "imagePath": sign(request, product.image_file),
        "createdAt": iso(product.created_at),
    }


def category_view(category: CategoryRecord) -> dict[str, Any]:
    return {
        "id": category.id,
        "nameEn": category.name_en,
        "nameTr": category.name_tr,
        "parentCategoryId": category.parent_id,
        "isDefault": category.is_default,
        "type": category.type,
        "createdAt": iso(category.created_at),
    }


async def ensure_result(state: PergaiState, generation: GenerationRecord) -> str:
    """Render the result image once, in a thread, and return its file path."""
    if generation.result_file is None:
        source = state.files[generation.source_file].data
        data = await asyncio.to_thread(
            render_result, source, generation.scene, generation.tool, generation.options
        )
        path = generation_file_path(generation.id)
        state.files[path] = StoredFile(data)
        generation.result_file = path
    return generation.result_file


async def generation_view(request: web.Request, generation: GenerationRecord) -> dict[str, Any]:
    """Build a generation's current view. A completed one carries a signed result URL."""
    state = state_of(request)
    status = generation.status(state.clock())
    result = None
    if status == "completed":
        result = sign(request, await ensure_result(state, generation))

    view: dict[str, Any] = {
        "id": generation.id,
        "productId": generation.product_id,
        "status": status,
        "scene": generation.scene,
        "tool": generation.tool,
        "prompt": generation.prompt,
        "resultImagePath": result,
        "createdAt": iso(generation.created_at),
        **generation.options,
    }
    if status == "failed":
        view["errorMessage"] = generation.failure_reason
    return view


async def item_view(
    request: web.Request, collection_id: str, item: CollectionItemRecord
) -> dict[str, Any]:
    state = state_of(request)
    generation = state.generations.get(item.generation_id)
    image_url = None
    if generation is not None and generation.status(state.clock()) == "completed":
        image_url = sign(request, await ensure_result(state, generation))

    return {
        "id": item.id,
        "collectionId": collection_id,
        "generationId": item.generation_id,
        "imageUrl": image_url,
        "createdAt": iso(item.created_at),
    }


async def collection_view(
    request: web.Request, collection: CollectionRecord, *, preview: bool
) -> dict[str, Any]:
    """Show a collection: newest items first, only the latest few when ``preview``."""
    items = list(reversed(collection.items))
    if preview:
        items = items[:PREVIEW_ITEMS]

    return {
        "id": collection.id,
        "name": collection.name,
        "createdAt": iso(collection.created_at),
        "_count": {"items": len(collection.items)},
        "items": [await item_view(request, collection.id, item) for item in items],
    }
