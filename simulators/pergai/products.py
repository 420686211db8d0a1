"""Product endpoints: list, get, create (fetching or drawing the image) and delete."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import aiohttp
from aiohttp import web

from simulators.images import product_placeholder
from simulators.pergai.fetch import ImageFetchError, fetch_image, is_url
from simulators.pergai.responses import (
    ApiError,
    product_file_path,
    product_view,
    read_body,
    reply_list,
    reply_record,
    required_text,
    state_of,
)
from simulators.pergai.state import PergaiState, ProductRecord, StoredFile, new_id

FETCH_SESSION_KEY = web.AppKey("pergai_fetch_session", aiohttp.ClientSession)

CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


def find_product(state: PergaiState, product_id: str) -> ProductRecord:
    product = state.products.get(product_id)
    if product is None:
        raise ApiError(404, f"product {product_id} not found")
    return product


async def list_products(request: web.Request) -> web.Response:
    state = state_of(request)
    views = [product_view(request, product) for product in state.products.values()]
    return reply_list(request, "products", views)


async def get_product(request: web.Request) -> web.Response:
    product = find_product(state_of(request), request.match_info["id"])
    return reply_record(request, "product", product_view(request, product))


async def create_product(request: web.Request) -> web.Response:
    """Create a product; an http(s) ``imagePath`` is fetched, a storage path gets a drawing."""
    state = state_of(request)
    body = await read_body(request)
    name = required_text(body, "name")
    category = required_text(body, "category")
    image_path = required_text(body, "imagePath")

    product_id = new_id()
    filename = file_name(image_path)
    stored = await reference_image(request, image_path, name)
    path = product_file_path(product_id, filename)
    state.files[path] = stored

    product = ProductRecord(id=product_id, name=name, category=category, image_file=path)
    state.products[product.id] = product
    state.recorded("product", product.id)
    return reply_record(request, "product", product_view(request, product), status=201)


async def reference_image(request: web.Request, image_path: str, name: str) -> StoredFile:
    if not is_url(image_path):
        if "://" in image_path:
            raise ApiError(400, "imagePath must be a storage path or an http(s) URL")
        return StoredFile(product_placeholder(name))

    state = state_of(request)
    try:
        data, image_format = await fetch_image(
            request.app[FETCH_SESSION_KEY], image_path, state.settings
        )
    except ImageFetchError as error:
        raise ApiError(400, str(error)) from error
    return StoredFile(data, CONTENT_TYPES.get(image_format, "application/octet-stream"))


def file_name(image_path: str) -> str:
    """Return the file name an image path or URL ends with, "image.png" when it has none."""
    name = PurePosixPath(unquote(urlsplit(image_path).path)).name
    return name or "image.png"


async def delete_product(request: web.Request) -> web.Response:
    """Delete a product; its generations and their images stay."""
    state = state_of(request)
    product = find_product(state, request.match_info["id"])
    del state.products[product.id]
    return web.Response(status=204)
