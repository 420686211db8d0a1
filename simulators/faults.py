"""Fault injection shared by the simulators: latency, error statuses and dropped connections.

Every simulator app installs ``fault_middleware``; tests change the app's
``Faults`` object while the server runs to switch faults on and off.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FAULTS_KEY = web.AppKey("faults", object)


@dataclass
class Faults:
    """Fault switches. Rates are probabilities per request (0.0 to 1.0); times are in seconds.

    ``error_rates`` maps an HTTP status (429, 500, 503, ...) to its rate.
    ``drop_rate`` closes the connection without a response before the handler
    runs; ``drop_after_rate`` runs the handler (so the change happens) and then
    drops the connection, which is a timeout whose outcome the client cannot know.
    """

    latency: float = 0.0
    error_rates: dict[int, float] = field(default_factory=dict)
    retry_after: float = 1.0
    drop_rate: float = 0.0
    drop_after_rate: float = 0.0
    # Paths starting with one of these are never faulted (image downloads, say).
    exempt_prefixes: tuple[str, ...] = ()
    seed: int | None = None
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def pick_status(self) -> int | None:
        for status, rate in self.error_rates.items():
            if self.random.random() < rate:
                return status
        return None


def drop_connection(request: web.Request) -> web.Response:
    """Close the client's connection without sending a response."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def error_response(status: int, faults: Faults) -> web.Response:
    headers = {"Retry-After": str(faults.retry_after)} if status == 429 else {}
    return web.json_response(
        {"error": f"simulated fault {status}", "message": f"simulated fault {status}"},
        status=status,
        headers=headers,
    )


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = request.app.get(FAULTS_KEY)
    if not isinstance(faults, Faults) or request.path.startswith(faults.exempt_prefixes):
        return await handler(request)

    if faults.latency:
        await asyncio.sleep(faults.latency)

    if faults.drop_rate and faults.random.random() < faults.drop_rate:
        faults.count("drop")
        return drop_connection(request)

    status = faults.pick_status()
    if status is not None:
        faults.count(str(status))
        return error_response(status, faults)

    response = await handler(request)
    if faults.drop_after_rate and faults.random.random() < faults.drop_after_rate:
        faults.count("drop_after")
        return drop_connection(request)
    return response
