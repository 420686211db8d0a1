"""Webhook delivery as WooCommerce does it: pings, signed JSON, late bodies, coalescing.

A change schedules one delivery per (webhook, resource) unless one is already
pending, and the body is built when the delivery runs, so it shows the
resource as it is then. Deliveries are not retried; after more than
``webhook_max_failures`` consecutive failures the webhook is disabled.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from simulators.woocommerce.model import Webhook
from simulators.woocommerce.render import product_json, variation_as_product_json
from simulators.woocommerce.state import WooState
from simulators.woocommerce.wire import error_body, php_json

logger = logging.getLogger(__name__)

USER_AGENT = "WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)"
TOPICS = ("product.created", "product.updated", "product.deleted", "product.restored")


@dataclass
class DeliveryRecord:
    """One delivery attempt, kept for tests."""

    webhook_id: int
    topic: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    error: str | None = None


@dataclass
class WebhookDispatcher:
    """Schedules and sends the deliveries of the store's webhooks."""

    state: WooState
    session: aiohttp.ClientSession | None = None
    log: list[DeliveryRecord] = field(default_factory=list)
    dropped: int = 0
    _pending: dict[tuple[int, int], asyncio.Task[None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.state.listeners.append(self.on_change)

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        await asyncio.gather(*self._pending.values(), return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    async def idle(self) -> None:
        """Wait until no delivery is pending (tests call this after a change, under a timeout)."""
        while self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)

    def on_change(self, event: str, resource_id: int, variation: bool) -> None:
        if variation and event not in ("created", "updated"):
            return
        topic = f"product.{event}"
        for webhook in self.state.webhooks.values():
            if webhook.status != "active" or webhook.topic != topic:
                continue
            key = (webhook.id, resource_id)
            if key in self._pending:
                continue
            self._pending[key] = asyncio.get_running_loop().create_task(
                self._deliver_later(webhook, resource_id, variation, key)
            )

    async def _deliver_later(
        self, webhook: Webhook, resource_id: int, variation: bool, key: tuple[int, int]
    ) -> None:
        try:
            await asyncio.sleep(self.state.settings.webhook_delay)
        finally:
            self._pending.pop(key, None)

        settings = self.state.settings
        chance = self.state.settings.faults.random
        if settings.webhook_drop_rate and chance.random() < settings.webhook_drop_rate:
            self.dropped += 1
            return
        body = self._body(webhook, resource_id, variation)
        await self.deliver(webhook, body)
        if settings.webhook_duplicate_rate and chance.random() < settings.webhook_duplicate_rate:
            await self.deliver(webhook, body)

    def _body(self, webhook: Webhook, resource_id: int, variation: bool) -> bytes:
        home = self.state.home_url
        payload: dict[str, Any]
        if webhook.event == "deleted":
            payload = {"id": resource_id}
        elif variation and resource_id in self.state.variations:
            payload = variation_as_product_json(
                self.state, self.state.variations[resource_id], home
            )
        elif resource_id in self.state.products:
            payload = product_json(self.state, self.state.products[resource_id], home)
        else:
            payload = error_body("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return php_json(payload).encode("ascii")

    def headers(self, webhook: Webhook, body: bytes) -> dict[str, str]:
        secret = html.unescape(webhook.secret).encode("utf-8")
        signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        second = int(self.state.now().timestamp())
        delivery_id = hashlib.md5(f"{webhook.id}{second}".encode(), usedforsecurity=False)
        return {
            "User-Agent": USER_AGENT,
            "Referer": webhook.delivery_url,
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": self.state.home_url + "/",
            "X-WC-Webhook-Topic": webhook.topic,
            "X-WC-Webhook-Resource": webhook.resource,
            "X-WC-Webhook-Event": webhook.event,
            "X-WC-Webhook-Signature": signature,
            "X-WC-Webhook-ID": str(webhook.id),
            "X-WC-Webhook-Delivery-ID": delivery_id.hexdigest(),
        }

    async def deliver(self, webhook: Webhook, body: bytes) -> None:
        headers = self.headers(webhook, body)
        status, error = await self._post(webhook.delivery_url, body, headers)
        self.log.append(
            DeliveryRecord(
                webhook.id, webhook.topic, webhook.delivery_url, headers, body, status, error
            )
        )
        if status is not None and 200 <= status < 300:
            webhook.failure_count = 0
            return
        webhook.failure_count += 1
        if webhook.failure_count > self.state.settings.webhook_max_failures:
            webhook.status = "disabled"
            logger.info("webhook %d disabled after repeated failures", webhook.id)

    async def ping(self, webhook: Webhook) -> None:
        """Send the creation ping: form-encoded ``webhook_id=N`` without X-WC headers."""
        body = f"webhook_id={webhook.id}".encode()
        headers = {
            "User-Agent": USER_AGENT,
            "Referer": webhook.delivery_url,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        status, error = await self._post(webhook.delivery_url, body, headers)
        self.log.append(
            DeliveryRecord(webhook.id, "ping", webhook.delivery_url, headers, body, status, error)
        )

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        assert self.session is not None, "dispatcher not started"
        try:
            async with self.session.post(
                url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as error:
            return None, f"{type(error).__name__}: {error}"
