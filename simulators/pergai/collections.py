"""Collection endpoints, including the ZIP download of every image in a collection."""

from __future__ import annotations

import asyncio
import io
import zipfile

from aiohttp import web

from simulators.pergai.generations import find_generation
from simulators.pergai.responses import (
    ApiError,
    collection_view,
    ensure_result,
    item_view,
    read_body,
    reply_list,
    reply_record,
    required_text,
    state_of,
)
from simulators.pergai.state import (
    CollectionItemRecord,
    CollectionRecord,
    PergaiState,
    new_id,
)


def find_collection(state: PergaiState, collection_id: str) -> CollectionRecord:
    collection = state.collections.get(collection_id)
    if collection is None:
        raise ApiError(404, f"collection {collection_id} not found")
    return collection


async def list_collections(request: web.Request) -> web.Response:
    collections = list(state_of(request).collections.values())
    views = [await collection_view(request, item, preview=True) for item in collections]
    return reply_list(request, "collections", views)


async def create_collection(request: web.Request) -> web.Response:
    body = await read_body(request)
    collection = CollectionRecord(id=new_id(), name=required_text(body, "name"))
    state_of(request).collections[collection.id] = collection
    view = await collection_view(request, collection, preview=False)
    return reply_record(request, "collection", view, status=201)


async def get_collection(request: web.Request) -> web.Response:
    collection = find_collection(state_of(request), request.match_info["id"])
    view = await collection_view(request, collection, preview=False)
    return reply_record(request, "collection", view)


async def delete_collection(request: web.Request) -> web.Response:
    """Delete the collection only; its generations stay."""
    state = state_of(request)
    collection = find_collection(state, request.match_info["id"])
    del state.collections[collection.id]
    return web.Response(status=204)


async def add_item(request: web.Request) -> web.Response:
    """Add a generation to a collection; adding one already there returns the existing item."""
    state = state_of(request)
    collection = find_collection(state, request.match_info["id"])
    body = await read_body(request)
    generation = find_generation(state, required_text(body, "generationId"))

    for item in collection.items:
        if item.generation_id == generation.id:
            return reply_record(request, "item", await item_view(request, collection.id, item))

    item = CollectionItemRecord(id=new_id(), generation_id=generation.id)
    collection.items.append(item)
    view = await item_view(request, collection.id, item)
    return reply_record(request, "item", view, status=201)


async def download(request: web.Request) -> web.Response:
    """Return a ZIP containing the image of every completed generation in the collection."""
    state = state_of(request)
    collection = find_collection(state, request.match_info["id"])

    entries: list[tuple[str, bytes]] = []
    for item in collection.items:
        generation = state.generations.get(item.generation_id)
        if generation is None or generation.status(state.clock()) != "completed":
            continue
        path = await ensure_result(state, generation)
        entries.append((f"pergai-{generation.id}.png", state.files[path].data))

    archive = await asyncio.to_thread(zip_bytes, entries)
    disposition = f'attachment; filename="collection-{collection.id}.zip"'
    return web.Response(
        body=archive,
        content_type="application/zip",
        headers={"Content-Disposition": disposition},
    )


def zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()
