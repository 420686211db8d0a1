"""Send signed WooCommerce webhook deliveries to a server and measure how fast it acknowledges them.

Every delivery is a real ``product.updated`` body rendered by the WooCommerce
simulator, with its own ``date_modified_gmt``, so each one is a new inbox row
for the daemon (WooCommerce deliveries are keyed by product id and modified
time). The products are drafts, so the daemon records them and skips them
without calling PergAI. Requests go to 127.0.0.1 only, from a fixed number of
concurrent senders, and stop after ``count`` requests or ``max_seconds``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from connectors.woocommerce.webhook import signature_for
from simulators.woocommerce import WooSettings, WooState
from simulators.woocommerce.render import product_json
from simulators.woocommerce.wire import php_json

TOPIC = "product.updated"
SAMPLE_PRODUCTS = 20


@dataclass
class IngestResult:
    """Outcome of one load run: acknowledgements, errors and per-request latencies in seconds."""

    accepted: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.accepted / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[round(fraction * 100) - 1]


def sample_payloads() -> list[dict[str, Any]]:
    """Render a few draft products as the WooCommerce simulator serves them."""
    state = WooState(WooSettings())
    state.generate(SAMPLE_PRODUCTS, variable_every=0)
    payloads = []
    for product in state.products.values():
        payload = product_json(state, product, state.home_url)
        payload["status"] = "draft"
        payloads.append(payload)
    return payloads


def deliveries(secret: str, count: int) -> Iterator[tuple[bytes, dict[str, str]]]:
    """Yield ``count`` signed deliveries, each with a distinct modified time."""
    payloads = sample_payloads()
    start = datetime(2024, 5, 1, tzinfo=UTC)
    for number in range(count):
        payload = dict(payloads[number % len(payloads)])
        modified = (start + timedelta(seconds=number)).strftime("%Y-%m-%dT%H:%M:%S")
        payload["date_modified"] = payload["date_modified_gmt"] = modified
        body = php_json(payload).encode("ascii")
        headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": TOPIC,
            "X-WC-Webhook-Resource": "product",
            "X-WC-Webhook-Event": "updated",
            "X-WC-Webhook-Signature": signature_for(secret, body),
            "X-WC-Webhook-ID": "1",
        }
        yield body, headers


async def send_load(
    url: str, secret: str, *, count: int, concurrency: int, max_seconds: float
) -> IngestResult:
    """Post up to ``count`` deliveries to ``url`` from ``concurrency`` senders."""
    result = IngestResult()
    queue = iter(list(deliveries(secret, count)))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    timeout = aiohttp.ClientTimeout(total=30)

    async def sender(session: aiohttp.ClientSession) -> None:
        for body, headers in queue:
            if loop.time() > deadline:
                return
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                kind = type(error).__name__
                result.errors[kind] = result.errors.get(kind, 0) + 1
                continue
            if status == 200:
                result.accepted += 1
                result.latencies.append(time.perf_counter() - started)
            else:
                result.errors[str(status)] = result.errors.get(str(status), 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - started
    return result
