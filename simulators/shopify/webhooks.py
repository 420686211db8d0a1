"""Webhook subscriptions and signed deliveries in Shopify's REST payload shape.

Each change of a product fires ``products/update`` (or create/delete) to every
subscription of that topic, including changes the app made itself. Bodies are
serialised like Shopify's (``/`` as ``\\/``, ``<`` ``>`` ``&`` as ``\\u003c``
``\\u003e`` ``\\u0026``, UTF-8) and signed with the app's secret. Fault
switches in the settings duplicate, drop or delay deliveries.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from simulators.shopify.state import SimMedia, SimProduct, gid, iso

if TYPE_CHECKING:
    from simulators.shopify.shop import ShopifyState

logger = logging.getLogger(__name__)


def shopify_json(payload: Any) -> bytes:
    """Serialise ``payload`` the way Shopify's webhook bodies are written."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    text = (
        text.replace("/", "\\/")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return text.encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    """One attempt to send a webhook, kept for tests to inspect."""

    topic: str
    url: str
    event_id: str
    webhook_id: str
    body: bytes
    status: int | None = None
    dropped: bool = False


@dataclass
class WebhookSender:
    state: ShopifyState
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    def subscribe(self, topic: str, url: str) -> dict[str, Any] | None:
        """Add a subscription to ``topic`` (``products/update``); None when it already exists."""
        if any(s["topic_path"] == topic and s["callbackUrl"] == url for s in self.subscriptions):
            return None
        subscription = {
            "id": gid("WebhookSubscription", len(self.subscriptions) + 1),
            "topic": topic.upper().replace("/", "_"),
            "topic_path": topic,
            "format": "JSON",
            "callbackUrl": url,
        }
        self.subscriptions.append(subscription)
        return subscription

    def send(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue ``payload`` for every subscription of ``topic``."""
        body = shopify_json(payload)
        event_id = str(uuid.uuid4())
        settings = self.state.settings
        rng = self.state.random
        for subscription in [s for s in self.subscriptions if s["topic_path"] == topic]:
            copies = 2 if rng.random() < settings.webhook_duplicate_rate else 1
            for _ in range(copies):
                delivery = Delivery(
                    topic, subscription["callbackUrl"], event_id, str(uuid.uuid4()), body
                )
                if rng.random() < settings.webhook_drop_rate:
                    delivery.dropped = True
                    self.deliveries.append(delivery)
                    continue
                delay = (
                    rng.uniform(0, settings.webhook_max_delay)
                    if settings.webhook_max_delay
                    else 0.0
                )
                self.state.spawn(self.deliver(delivery, delay), self.pending)

    async def deliver(self, delivery: Delivery, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        settings = self.state.settings
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(settings.webhook_secret, delivery.body),
            "X-Shopify-Shop-Domain": settings.domain,
            "X-Shopify-API-Version": self.state.api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        }
        self.deliveries.append(delivery)
        timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout, connect=1.0)
        for attempt in range(settings.webhook_attempts):
            try:
                async with self.state.http.post(
                    delivery.url, data=delivery.body, headers=headers, timeout=timeout
                ) as response:
                    delivery.status = response.status
                    if response.status < 300:
                        return
            except (aiohttp.ClientError, TimeoutError) as error:
                logger.debug("webhook delivery to %s failed: %s", delivery.url, error)
            await asyncio.sleep(0.05 * 2**attempt)

    async def drain(self) -> None:
        """Wait until every queued delivery has been attempted (bounded by delivery timeouts)."""
        while self.pending:
            await asyncio.wait(set(self.pending))


def product_payload(product: SimProduct, state: ShopifyState) -> dict[str, Any]:
    """Build the REST-shaped product that products/create and products/update carry."""
    media = state.catalogue.product_media(product)
    images = [
        image_payload(m, product, index, state)
        for index, m in enumerate(media)
        if m.status == "READY"
    ]
    variants = [
        {
            "admin_graphql_api_id": gid("ProductVariant", v.id),
            "id": v.id,
            "product_id": product.id,
            "title": v.title,
            "sku": v.sku or None,
            "price": v.price,
            "position": index + 1,
            "option1": next(iter(v.options.values()), None),
            "image_id": v.media_ids[0] if v.media_ids else None,
            "updated_at": iso(v.updated_at),
        }
        for index, v in enumerate(product.variants)
    ]
    return {
        "admin_graphql_api_id": product.gid,
        "body_html": product.description,
        "created_at": iso(product.created_at),
        "handle": product.handle,
        "id": product.id,
        "product_type": product.product_type,
        "title": product.title,
        "updated_at": iso(product.updated_at),
        "vendor": product.vendor,
        "status": product.status.lower(),
        "tags": ", ".join(product.tags),
        "variants": variants,
        "images": images,
        "image": images[0] if images else None,
        "media": [media_payload(m, product, index, state) for index, m in enumerate(media)],
        "variant_gids": [
            {"admin_graphql_api_id": gid("ProductVariant", v.id), "updated_at": iso(v.updated_at)}
            for v in product.variants
        ],
    }


def image_payload(
    media: SimMedia, product: SimProduct, index: int, state: ShopifyState
) -> dict[str, Any]:
    return {
        "admin_graphql_api_id": gid("ProductImage", media.id),
        "alt": media.alt or None,
        "id": media.id,
        "position": index + 1,
        "product_id": product.id,
        "src": state.cdn_url(media),
        "width": media.width,
        "height": media.height,
        "variant_ids": [v.id for v in product.variants if media.id in v.media_ids],
    }


def media_payload(
    media: SimMedia, product: SimProduct, index: int, state: ShopifyState
) -> dict[str, Any]:
    ready = media.status == "READY"
    return {
        "admin_graphql_api_id": media.gid,
        "alt": media.alt or None,
        "id": media.id,
        "media_content_type": "IMAGE",
        "position": index + 1,
        "preview_image": {
            "src": state.cdn_url(media) if ready else None,
            "width": media.width,
            "height": media.height,
            "status": media.status.lower(),
        },
        "product_id": product.id,
        "status": media.status.lower(),
        "variant_ids": [v.id for v in product.variants if media.id in v.media_ids],
    }
