"""Serve the PergAI and WooCommerce simulators for the end-to-end benchmark.

Each simulator gets a fixed latency on its API paths (image downloads are
exempt, as a CDN would serve them) and counts the API requests it receives,
so the benchmark can report calls per written image.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from connectors.base import marker_generation_id
from simulators.faults import Faults, Handler
from simulators.pergai import FAULTS_KEY as PERGAI_FAULTS
from simulators.pergai import STATE_KEY as PERGAI_STATE
from simulators.pergai import PergaiSimSettings, PergaiState, new_api_key
from simulators.pergai import create_app as pergai_app
from simulators.server import serve
from simulators.woocommerce import STATE_KEY as WOOCOMMERCE_STATE
from simulators.woocommerce import WooSettings, WooState
from simulators.woocommerce import create_app as woocommerce_app

PERGAI_API = "/api/external/v1"
WOOCOMMERCE_API = "/wp-json/"


@dataclass(frozen=True)
class Latencies:
    """Simulated service times in seconds: per store API call, per PergAI call, per generation."""

    store: float = 0.1
    pergai: float = 0.05
    generation: float = 2.0


@dataclass
class BenchSimulators:
    """The running simulators, their credentials and their request counts."""

    pergai_url: str
    pergai_key: str
    woocommerce_url: str
    woocommerce: WooSettings
    pergai: web.Application
    store: web.Application
    store_calls: Counter[str]

    @property
    def pergai_api(self) -> str:
        return self.pergai_url + PERGAI_API

    @property
    def pergai_state(self) -> PergaiState:
        return self.pergai[PERGAI_STATE]

    @property
    def store_state(self) -> WooState:
        return self.store[WOOCOMMERCE_STATE]

    def pergai_calls(self) -> Counter[str]:
        """Return PergAI API requests per endpoint, without file downloads and the total."""
        return Counter(
            {
                endpoint: count
                for endpoint, count in self.pergai_state.requests.items()
                if endpoint != "total" and not endpoint.startswith("GET /files")
            }
        )

    def written_images(self) -> int:
        """Count images on the store's products whose name carries the pergai-sync marker."""
        state = self.store_state
        return sum(
            1
            for product in state.products.values()
            for image_id in product.image_ids
            if image_id in state.media and marker_generation_id(state.media[image_id].name)
        )

    def reset_counts(self) -> None:
        self.pergai_state.requests.clear()
        self.store_calls.clear()


def endpoint_name(path: str) -> str:
    """Name a REST path with its ids replaced: ``products/123`` becomes ``products/{id}``."""
    tail = path.removeprefix(WOOCOMMERCE_API).split("/", 2)[-1]
    return "/".join("{id}" if part.isdigit() else part for part in tail.split("/"))


def count_store_calls(calls: Counter[str]) -> Middleware:
    """Build a middleware that counts REST API requests by method and path."""

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(WOOCOMMERCE_API):
            calls[f"{request.method} {endpoint_name(request.path)}"] += 1
        return await handler(request)

    return count


@asynccontextmanager
async def serve_simulators(
    products: int, latencies: Latencies, *, seed: int = 7
) -> AsyncIterator[BenchSimulators]:
    """Serve PergAI and a WooCommerce store with ``products`` simple products on loopback."""
    key = new_api_key()
    pergai = pergai_app(
        PergaiSimSettings(api_key=key, generation_duration=latencies.generation, seed=seed)
    )
    pergai[PERGAI_FAULTS] = Faults(latency=latencies.pergai, exempt_prefixes=("/files",))

    woocommerce = WooSettings(
        faults=Faults(latency=latencies.store, exempt_prefixes=("/wp-content",)), seed=seed
    )
    store = woocommerce_app(woocommerce)
    store[WOOCOMMERCE_STATE].generate(products, variable_every=0)
    calls: Counter[str] = Counter()
    # The app is not frozen until it is served, so a middleware can still be added.
    store.middlewares.append(count_store_calls(calls))

    async with AsyncExitStack() as stack:
        pergai_url = await stack.enter_async_context(serve(pergai))
        store_url = await stack.enter_async_context(serve(store))
        yield BenchSimulators(pergai_url, key, store_url, woocommerce, pergai, store, calls)
