"""The PergAI simulator as an aiohttp app, and a runner for the command line.

The app serves the external API under ``/api/external/v1`` (Bearer keys
starting ``pk_``) and its signed files under ``/files``. Tests reach the
records and request counts through ``app[STATE_KEY]`` and switch faults
through ``app[FAULTS_KEY]``.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from simulators.faults import FAULTS_KEY, Faults, Handler, fault_middleware
from simulators.pergai import categories, collections, files, generations, products
from simulators.pergai.products import FETCH_SESSION_KEY
from simulators.pergai.responses import STATE_KEY, ApiError, error_response, state_of
from simulators.pergai.seed import seed_categories
from simulators.pergai.settings import API_PREFIX, PergaiSimSettings
from simulators.pergai.state import PergaiState
from simulators.server import serve


def create_app(settings: PergaiSimSettings, *, faults: Faults | None = None) -> web.Application:
    """Build the simulator with a seeded category tree and no products."""
    app = web.Application(middlewares=[count_middleware, fault_middleware, api_middleware])
    state = PergaiState(settings)
    seed_categories(state)
    app[STATE_KEY] = state
    app[FAULTS_KEY] = faults or Faults()
    app.cleanup_ctx.append(fetch_session)
    add_routes(app)
    return app


def add_routes(app: web.Application) -> None:
    api = API_PREFIX
    app.router.add_get(f"{api}/products", products.list_products)
    app.router.add_post(f"{api}/products", products.create_product)
    app.router.add_get(f"{api}/products/{{id}}", products.get_product)
    app.router.add_delete(f"{api}/products/{{id}}", products.delete_product)

    app.router.add_get(f"{api}/categories", categories.list_categories)
    app.router.add_post(f"{api}/categories", categories.create_category)
    app.router.add_get(f"{api}/categories/{{id}}", categories.get_category)
    app.router.add_put(f"{api}/categories/{{id}}", categories.update_category)
    app.router.add_delete(f"{api}/categories/{{id}}", categories.delete_category)

    app.router.add_get(f"{api}/generations", generations.list_generations)
    app.router.add_post(f"{api}/generations", generations.create_generation)
    app.router.add_get(f"{api}/generations/{{id}}", generations.get_generation)
    app.router.add_post(f"{api}/tools/{{tool}}", generations.run_tool)
    app.router.add_get(f"{api}/templates", generations.list_templates)

    app.router.add_get(f"{api}/collections", collections.list_collections)
    app.router.add_post(f"{api}/collections", collections.create_collection)
    app.router.add_get(f"{api}/collections/{{id}}", collections.get_collection)
    app.router.add_delete(f"{api}/collections/{{id}}", collections.delete_collection)
    app.router.add_post(f"{api}/collections/{{id}}/items", collections.add_item)
    app.router.add_get(f"{api}/collections/{{id}}/download", collections.download)

    app.router.add_get("/files/{tail:.+}", files.serve_file)


async def fetch_session(app: web.Application) -> AsyncIterator[None]:
    """Own the client session that fetches ``imagePath`` URLs for the app's lifetime."""
    async with aiohttp.ClientSession() as session:
        app[FETCH_SESSION_KEY] = session
        yield


@web.middleware
async def count_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request per endpoint before faults apply, so retries show in the counts.

    The body is read here, ahead of injected latency, because a real server receives
    the whole request before working on it. A client that times out later has still sent it.
    """
    state_of(request).count(endpoint_name(request))
    if request.can_read_body:
        await request.read()
    return await handler(request)


def endpoint_name(request: web.Request) -> str:
    """Name the endpoint as "GET /generations/{id}", without the API prefix."""
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else request.path
    return f"{request.method} {canonical.removeprefix(API_PREFIX)}"


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Check the Bearer key on API paths and turn ``ApiError`` into a JSON error response."""
    if request.path.startswith(API_PREFIX) and not key_accepted(request):
        return error_response(401, "Unauthorized: missing or invalid API key")
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status, error.message)


def key_accepted(request: web.Request) -> bool:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.startswith("pk_"):
        return False

    expected = state_of(request).settings.api_key
    return expected is None or hmac.compare_digest(key.encode(), expected.encode())


async def run(
    port: int = 0,
    settings: PergaiSimSettings | None = None,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the simulator on 127.0.0.1:``port`` until cancelled.

    ``on_ready`` receives the API base URL (``http://127.0.0.1:PORT/api/external/v1``).
    """
    app = create_app(settings or PergaiSimSettings())
    async with serve(app, port) as origin:
        if on_ready is not None:
            on_ready(origin + API_PREFIX)
        await asyncio.Event().wait()
