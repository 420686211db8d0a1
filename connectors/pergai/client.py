"""The PergAI REST API client.

One private ``_request`` sends every HTTP request: it bounds concurrency with a
semaphore, applies the per-request timeout, translates failures into
``sync.errors`` classes and retries what can be retried. A POST that creates
something is not resent after its response was lost, because the record may
exist. ``find_product`` and ``find_generations`` let the caller look it up.

The API key goes only to the API's own paths, never to the signed file URLs
``download`` fetches, and never into logs or error messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
from pydantic import BaseModel

from connectors.pergai.bodies import (
    ignore_body,
    parse_model,
    read_json,
    read_limited,
    stream_to_file,
)
from connectors.pergai.envelope import unwrap_list, unwrap_record
from connectors.pergai.errors import (
    GenerationTimeoutError,
    error_for_exception,
    error_for_status,
    signed_url_error,
)
from connectors.pergai.lookup import newest_first, pick_product, scene_matches
from connectors.pergai.models import (
    Category,
    Collection,
    CollectionItem,
    Generation,
    Product,
    Template,
    ToolResult,
)
from connectors.retry import RetryPolicy, with_retry
from sync.errors import ConfigError, ImageError, NotFoundError

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Reader = Callable[[aiohttp.ClientResponse], Awaitable[T]]

DEFAULT_BASE_URL = "https://pergai.com/api/external/v1"
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


class PergaiClient:
    """Async client of the PergAI external API, version 1.

    Use it as an async context manager. A ``session`` passed in is shared and
    left open; a session the client creates is closed by ``aclose``.
    ``timeout`` is in seconds per request and ``max_concurrency`` bounds the
    requests in flight at once.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30,
        max_concurrency: int = 8,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen dataclass, safe to share)
    ) -> None:
        if not api_key:
            raise ConfigError("the PergAI API key is empty; set [pergai] api_key or PERGAI_API_KEY")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._session = session
        self._owns_session = session is None
        self.timeout = timeout
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._retry = retry

    def __repr__(self) -> str:
        return f"PergaiClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # Products

    # NOTE: the API documents no pagination, so each list call reads one response in full.

    async def list_products(self) -> list[Product]:
        return await self._get_list("/products", Product)

    async def get_product(self, product_id: str) -> Product:
        return await self._get_record(f"/products/{segment(product_id)}", Product, "product")

    async def create_product(self, name: str, category: str, image_path: str) -> Product:
        """Create a product; ``image_path`` is a storage path or a URL PergAI can fetch."""
        body = {"name": name, "category": category, "imagePath": image_path}
        return await self._create("/products", body, Product, "product")

    async def delete_product(self, product_id: str, *, missing_ok: bool = False) -> None:
        """Delete a product for good; ``missing_ok`` treats an unknown id as already deleted.

        Pass ``missing_ok`` when repeating a delete whose response was lost: the
        first attempt may have deleted it, and aiohttp itself resends a DELETE
        once when a reused connection drops.
        """
        await self._delete(f"/products/{segment(product_id)}", missing_ok)

    # Categories

    async def list_categories(self) -> list[Category]:
        return await self._get_list("/categories", Category)

    async def get_category(self, category_id: str) -> Category:
        return await self._get_record(f"/categories/{segment(category_id)}", Category, "category")

    async def create_category(
        self, name: str, *, parent_category_id: str | None = None, type: str | None = None
    ) -> Category:
        body = drop_none({"name": name, "parentCategoryId": parent_category_id, "type": type})
        return await self._create("/categories", body, Category, "category")

    async def update_category(
        self,
        category_id: str,
        *,
        name: str | None = None,
        parent_category_id: str | None | _Unset = UNSET,
        type: str | None = None,
    ) -> Category:
        """Change a category; ``parent_category_id=None`` moves it to the root."""
        body: dict[str, Any] = drop_none({"name": name, "type": type})
        if parent_category_id is not UNSET:
            body["parentCategoryId"] = parent_category_id

        path = f"/categories/{segment(category_id)}"
        payload = await self._request("PUT", path, body=body, read=read_json)
        endpoint = f"PUT {path}"
        return parse_model(Category, unwrap_record(payload, endpoint, "category"), endpoint)

    async def delete_category(self, category_id: str, *, missing_ok: bool = False) -> None:
        """Delete a category; ``missing_ok`` as for ``delete_product``."""
        await self._delete(f"/categories/{segment(category_id)}", missing_ok)

    # Generations

    async def list_generations(self) -> list[Generation]:
        return await self._get_list("/generations", Generation)

    async def get_generation(self, generation_id: str) -> Generation:
        path = f"/generations/{segment(generation_id)}"
        return await self._get_record(path, Generation, "generation")

    async def create_generation(
        self,
        product_id: str,
        scene: str,
        *,
        custom_prompt: str | None = None,
        ai_provider: str | None = None,
        aspect_ratio: str | None = None,
    ) -> Generation:
        """Start a scene shot; it runs asynchronously, so follow it with ``wait_for_generation``."""
        body = drop_none(
            {
                "productId": product_id,
                "scene": scene,
                "customPrompt": custom_prompt,
                "aiProvider": ai_provider,
                "aspectRatio": aspect_ratio,
            }
        )
        return await self._create("/generations", body, Generation, "generation")

    async def wait_for_generation(
        self, generation_id: str, *, deadline: float, interval: float = 2.0
    ) -> Generation:
        """Read a generation until it is completed or failed and return that record.

        ``deadline`` and ``interval`` are in seconds. Raises ``GenerationTimeoutError``
        (not retried) when the generation is still running after ``deadline``.
        """
        started = time.monotonic()
        while True:
            generation = await self.get_generation(generation_id)
            if generation.final:
                return generation

            elapsed = time.monotonic() - started
            if elapsed + interval > deadline:
                raise GenerationTimeoutError(
                    f"PergAI generation {generation_id} is still {generation.status.value} "
                    f"after {elapsed:.0f} s (limit {deadline:g} s); "
                    "it may finish later, so check it again before starting a new one",
                    generation_id=generation_id,
                )
            await asyncio.sleep(interval)

    # Collections

    async def list_collections(self) -> list[Collection]:
        """List collections; each carries only its latest items, ``item_count`` has the total."""
        return await self._get_list("/collections", Collection)

    async def create_collection(self, name: str) -> Collection:
        return await self._create("/collections", {"name": name}, Collection, "collection")

    async def get_collection(self, collection_id: str) -> Collection:
        path = f"/collections/{segment(collection_id)}"
        return await self._get_record(path, Collection, "collection")

    async def delete_collection(self, collection_id: str, *, missing_ok: bool = False) -> None:
        """Delete a collection; its generations and their images stay.

        ``missing_ok`` treats an unknown id as already deleted, as for ``delete_product``.
        """
        await self._delete(f"/collections/{segment(collection_id)}", missing_ok)

    async def add_collection_item(self, collection_id: str, generation_id: str) -> CollectionItem:
        # NOTE: the API documents no response body here; this expects the new item record.
        path = f"/collections/{segment(collection_id)}/items"
        body = {"generationId": generation_id}
        return await self._create(path, body, CollectionItem, "item")

    async def download_collection(self, collection_id: str, destination: Path) -> int:
        """Stream the collection's ZIP file to ``destination`` and return its size in bytes.

        The file is written as ``<destination>.part`` and renamed when complete,
        so ``destination`` never contains a partial download.
        """
        path = f"/collections/{segment(collection_id)}/download"

        async def save(response: aiohttp.ClientResponse) -> int:
            return await stream_to_file(response, destination)

        return await self._request("GET", path, read=save, streaming=True)

    # Tools

    async def remove_background(self, product_id: str) -> ToolResult:
        return await self._tool("remove-bg", {"productId": product_id})

    async def upscale(
        self,
        product_id: str,
        *,
        scale: str = "1x",
        ai_provider: str | None = None,
        width: int | None = None,
        height: int | None = None,
        use_sharp: bool | None = None,
    ) -> ToolResult:
        """Upscale the product image; ``scale`` is ``1x``, ``2x`` or ``4x``."""
        body = {
            "productId": product_id,
            "scale": scale,
            "aiProvider": ai_provider,
            "width": width,
            "height": height,
            "useSharp": use_sharp,
        }
        return await self._tool("upscale", drop_none(body))

    async def expand(
        self,
        product_id: str,
        *,
        ratio: str,
        prompt: str | None = None,
        ai_provider: str | None = None,
        resolution: str | None = None,
    ) -> ToolResult:
        """Extend the product image to ``ratio`` (``1:1``, ``16:9``, ``9:16``...)."""
        body = {
            "productId": product_id,
            "ratio": ratio,
            "prompt": prompt,
            "aiProvider": ai_provider,
            "resolution": resolution,
        }
        return await self._tool("expand", drop_none(body))

    # Templates

    async def list_templates(self) -> list[Template]:
        return await self._get_list("/templates", Template)

    # Look-ups after a create whose response was lost

    async def find_product(self, name: str, image_url: str | None = None) -> Product | None:
        """Find the product a lost ``create_product`` may have made, or return None.

        Matches the name exactly; among several, prefers those whose image has the
        file name of ``image_url``, and returns the newest.
        """
        return pick_product(await self.list_products(), name, image_url)

    async def find_generations(self, product_id: str, scene: str | None = None) -> list[Generation]:
        """Return the product's generations (of ``scene`` when given), newest first."""
        generations = [
            generation
            for generation in await self.list_generations()
            if generation.product_id == product_id and scene_matches(generation, scene)
        ]
        return newest_first(generations)

    # Result images

    async def download(self, url: str, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """Fetch a result image by its signed URL; the API key is not sent with it.

        Raises ``ImageError`` when ``url`` is not an absolute http(s) URL.
        """
        if urlsplit(url).scheme not in ("http", "https"):
            raise ImageError(f"cannot download PergAI image {url!r}: it is not an http(s) URL")

        async def read(response: aiohttp.ClientResponse) -> bytes:
            return await read_limited(response, max_bytes, url_path(url))

        return await self._request("GET", url, read=read, absolute=True)

    # Plumbing

    async def _get_list(self, path: str, model: type[M]) -> list[M]:
        payload = await self._request("GET", path, read=read_json)
        endpoint = f"GET {path}"
        return [parse_model(model, item, endpoint) for item in unwrap_list(payload, endpoint)]

    async def _get_record(self, path: str, model: type[M], singular: str) -> M:
        payload = await self._request("GET", path, read=read_json)
        endpoint = f"GET {path}"
        return parse_model(model, unwrap_record(payload, endpoint, singular), endpoint)

    async def _create(self, path: str, body: Mapping[str, Any], model: type[M], singular: str) -> M:
        payload = await self._request("POST", path, body=body, read=read_json, creates=True)
        endpoint = f"POST {path}"
        return parse_model(model, unwrap_record(payload, endpoint, singular), endpoint)

    async def _tool(self, name: str, body: Mapping[str, Any]) -> ToolResult:
        return await self._create(f"/tools/{name}", body, ToolResult, "generation")

    async def _delete(self, path: str, missing_ok: bool) -> None:
        try:
            await self._request("DELETE", path, read=ignore_body)
        except NotFoundError:
            if not missing_ok:
                raise
            logger.debug(
                "PergAI DELETE %s returned 404; already deleted",
                path,
                extra={"action": "pergai_delete_gone", "endpoint": f"DELETE {path}"},
            )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        read: Reader[T],
        body: Mapping[str, Any] | None = None,
        creates: bool = False,
        absolute: bool = False,
        streaming: bool = False,
    ) -> T:
        """Send one API call with retries and return what ``read`` makes of the response.

        ``path`` is relative to the base URL, or a full URL when ``absolute``
        (sent without the API key). ``creates`` stops a resend after a lost
        response; ``streaming`` lifts the total timeout and bounds each read instead.
        """
        url = path if absolute else self.base_url + path
        endpoint = f"{method} {url_path(path) if absolute else path}"
        headers = {"Accept": "application/json"}
        if not absolute:
            headers["Authorization"] = f"Bearer {self._api_key}"

        if streaming:
            limits = aiohttp.ClientTimeout(sock_connect=self.timeout, sock_read=self.timeout)
        else:
            limits = aiohttp.ClientTimeout(total=self.timeout)

        async def attempt() -> T:
            return await self._attempt(method, url, endpoint, headers, body, limits, read, absolute)

        return await with_retry(
            attempt,
            self._retry,
            description=f"PergAI {endpoint}",
            resend_unknown=not creates,
        )

    async def _attempt(
        self,
        method: str,
        url: str,
        endpoint: str,
        headers: Mapping[str, str],
        body: Mapping[str, Any] | None,
        limits: aiohttp.ClientTimeout,
        read: Reader[T],
        absolute: bool,
    ) -> T:
        session = self._open_session()
        async with self._semaphore:
            started = time.perf_counter()
            try:
                async with session.request(
                    method, url, json=body, headers=headers, timeout=limits
                ) as response:
                    log_response(endpoint, response.status, started)
                    await self._raise_for_status(response, endpoint, signed_file=absolute)
                    return await read(response)
            except (aiohttp.ClientError, TimeoutError) as error:
                logger.debug(
                    "PergAI %s failed after %.0f ms: %s",
                    endpoint,
                    elapsed_ms(started),
                    type(error).__name__,
                    extra={"action": "pergai_request", "endpoint": endpoint},
                )
                raise error_for_exception(error, endpoint, self.timeout) from error

    async def _raise_for_status(
        self, response: aiohttp.ClientResponse, endpoint: str, *, signed_file: bool
    ) -> None:
        if response.status < 400:
            return
        if signed_file and response.status in (401, 403):
            raise signed_url_error(response.status, endpoint)

        text = await response.text(errors="replace")
        retry_after = response.headers.get("Retry-After")
        raise error_for_status(response.status, text, endpoint, retry_after, self._api_key)

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


def log_response(endpoint: str, status: int, started: float) -> None:
    logger.debug(
        "PergAI %s -> %d in %.0f ms",
        endpoint,
        status,
        elapsed_ms(started),
        extra={"action": "pergai_request", "endpoint": endpoint, "status": status},
    )


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def segment(value: str) -> str:
    """Quote an id for use as one path segment."""
    return quote(value, safe="")


def url_path(url: str) -> str:
    """Return the path of ``url`` without its query string, which may hold a signature."""
    return urlsplit(url).path or "/"


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
