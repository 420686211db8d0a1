"""The daemon's HTTP server: store webhooks, health check and Prometheus metrics.

A webhook is verified on its raw bytes, recorded in the inbox and committed
before the 200 goes out; only then is the engine woken. A delivery that
cannot be recorded gets a 503, so the store sends it again, and nothing is
half-written. Webhooks are hints: polling and reconciliation are the guarantee.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from connectors.base import EventKind, StoreConnector, WebhookDelivery
from sync.errors import BadRequestError, StorageError, WebhookSignatureError
from sync.metrics import Metrics

logger = logging.getLogger(__name__)

# Headers kept with an inbox row so the delivery can be verified and parsed
# again when the engine processes it (the signature is a digest, not a secret).
KEPT_HEADER_PREFIXES = ("x-shopify-", "x-wc-webhook-", "content-type")


class Inbox(Protocol):
    async def record_delivery(
        self, store: str, platform: str, delivery: WebhookDelivery, raw: str
    ) -> bool:
        """Store a verified delivery; return False when its key was already seen."""
        ...

    async def ping(self) -> None:
        """Raise ``StorageError`` when the database is unreachable."""
        ...


@dataclass(frozen=True)
class StoreEndpoint:
    platform: str
    connector: StoreConnector


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in headers.items()
        if name.lower().startswith(KEPT_HEADER_PREFIXES)
    }


class WebhookServer:
    """Routes: ``POST /webhooks/{platform}/{store}``, ``GET /healthz``, ``GET /metrics``."""

    def __init__(
        self,
        stores: Mapping[str, StoreEndpoint],
        inbox: Inbox,
        metrics: Metrics,
        wake: Callable[[str], Awaitable[None] | None],
        *,
        max_body_bytes: int = 5 * 1024 * 1024,
        refresh_metrics: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.stores = stores
        self.inbox = inbox
        self.metrics = metrics
        self.wake = wake
        self.max_body_bytes = max_body_bytes
        self.refresh_metrics = refresh_metrics

    def app(self) -> web.Application:
        # With client_max_size set, aiohttp itself returns 413 for larger bodies.
        app = web.Application(client_max_size=self.max_body_bytes)
        app.router.add_post("/webhooks/{platform}/{store}", self.receive)
        app.router.add_get("/healthz", self.health)
        app.router.add_get("/metrics", self.serve_metrics)
        return app

    async def receive(self, request: web.Request) -> web.Response:
        platform = request.match_info["platform"]
        store = request.match_info["store"]
        endpoint = self.stores.get(store)
        if endpoint is None or endpoint.platform != platform:
            self.metrics.webhooks.labels(store="unknown", outcome="unknown_store").inc()
            return error(404, f"no {platform} store named {store!r} is configured")

        if (request.content_length or 0) > self.max_body_bytes:
            self.metrics.webhooks.labels(store=store, outcome="too_large").inc()
            return error(413, f"webhook body over {self.max_body_bytes} bytes")
        body = await request.read()

        return await self.accept(store, endpoint, request.headers, body)

    async def accept(
        self, store: str, endpoint: StoreEndpoint, headers: Mapping[str, str], body: bytes
    ) -> web.Response:
        try:
            delivery = endpoint.connector.parse_webhook(headers, body)
        except WebhookSignatureError as exc:
            self.metrics.webhooks.labels(store=store, outcome="bad_signature").inc()
            logger.warning(
                "rejected webhook: %s", exc, extra={"action": "webhook_rejected", "store": store}
            )
            return error(401, str(exc))
        except BadRequestError as exc:
            self.metrics.webhooks.labels(store=store, outcome="malformed").inc()
            logger.warning(
                "malformed webhook: %s", exc, extra={"action": "webhook_malformed", "store": store}
            )
            return error(400, str(exc))

        if any(event.kind is EventKind.PING for event in delivery.events):
            self.metrics.webhooks.labels(store=store, outcome="ping").inc()
            return web.Response(status=200, text="")

        return await self.record(store, endpoint.platform, delivery, headers, body)

    async def record(
        self,
        store: str,
        platform: str,
        delivery: WebhookDelivery,
        headers: Mapping[str, str],
        body: bytes,
    ) -> web.Response:
        raw = encode_raw(headers, body)
        try:
            new = await self.inbox.record_delivery(store, platform, delivery, raw)
        except StorageError:
            self.metrics.webhooks.labels(store=store, outcome="storage_error").inc()
            logger.exception(
                "could not record webhook %s",
                delivery.key,
                extra={"action": "webhook_storage_error", "store": store},
            )
            return error(503, "the delivery could not be recorded; send it again")

        outcome = "accepted" if new else "duplicate"
        self.metrics.webhooks.labels(store=store, outcome=outcome).inc()
        logger.info(
            "webhook %s %s (%s)",
            delivery.topic,
            outcome,
            delivery.key,
            extra={"action": f"webhook_{outcome}", "store": store},
        )
        if new:
            woken = self.wake(store)
            if woken is not None:
                await woken
        return web.json_response({"status": outcome})

    async def health(self, request: web.Request) -> web.Response:
        try:
            await self.inbox.ping()
        except StorageError as exc:
            return web.json_response({"status": "unhealthy", "database": str(exc)}, status=503)
        return web.json_response({"status": "ok"})

    async def serve_metrics(self, request: web.Request) -> web.Response:
        """Serve the metrics, reading the per-stage gauges from the database first."""
        if self.refresh_metrics is not None:
            try:
                await self.refresh_metrics()
            except StorageError as exc:
                logger.warning(
                    "could not refresh metrics: %s", exc, extra={"action": "metrics_failed"}
                )
        return web.Response(body=self.metrics.render(), content_type="text/plain")


def encode_raw(headers: Mapping[str, str], body: bytes) -> str:
    """Serialise the kept headers and the body for the inbox's body column."""
    return json.dumps(
        {"headers": kept_headers(headers), "body": body.decode("utf-8", errors="surrogateescape")},
        ensure_ascii=False,
    )


def decode_raw(raw: str) -> tuple[dict[str, str], bytes]:
    """Reverse ``encode_raw``: the headers and the exact body bytes."""
    document = json.loads(raw)
    return dict(document["headers"]), document["body"].encode("utf-8", errors="surrogateescape")


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
