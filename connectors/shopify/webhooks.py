"""Verify Shopify webhook deliveries and turn them into store events.

The signature is base64(HMAC-SHA256(app secret, raw body)), compared in
constant time on the bytes as received: re-serialising the JSON would change
Shopify's escapes (``\\/``, ``\\u003c``) and break it. Deliveries repeat and
arrive out of order, so the key is the event id (the same across retries of
one event), falling back to the webhook id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from connectors.base import EventKind, StoreEvent, WebhookDelivery
from connectors.shopify.records import item_from_rest, product_gid
from sync.errors import BadRequestError, WebhookSignatureError

PRODUCT_TOPICS = ("products/create", "products/update")
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    ).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes, store: str) -> None:
    """Raise ``WebhookSignatureError`` unless X-Shopify-Hmac-Sha256 signs ``body``."""
    received = header(headers, "X-Shopify-Hmac-Sha256")
    if not received:
        raise WebhookSignatureError(
            f"store '{store}': webhook has no X-Shopify-Hmac-Sha256 header; "
            "it did not come from Shopify"
        )
    expected = signature(secret, body)
    if not hmac.compare_digest(
        expected.encode("ascii"), received.strip().encode("utf-8", "replace")
    ):
        raise WebhookSignatureError(
            f"store '{store}': webhook signature does not match; "
            "check the store's webhook secret (the app's client secret)"
        )


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def parse_delivery(
    secret: str, headers: Mapping[str, str], body: bytes, store: str
) -> WebhookDelivery:
    """Verify the delivery, then read its topic, key and events."""
    verify(secret, headers, body, store)
    topic = (header(headers, "X-Shopify-Topic") or "").strip()
    key = header(headers, "X-Shopify-Event-Id") or header(headers, "X-Shopify-Webhook-Id")
    if not topic or not key:
        raise BadRequestError(
            f"store '{store}': webhook lacks X-Shopify-Topic or an event id header",
            service="Shopify",
            status=400,
        )
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BadRequestError(
            f"store '{store}': webhook body for {topic} is not UTF-8 JSON",
            service="Shopify",
            status=400,
        ) from error
    if not isinstance(payload, dict):
        raise BadRequestError(
            f"store '{store}': webhook body for {topic} is not a JSON object",
            service="Shopify",
            status=400,
        )
    return WebhookDelivery(key=key, topic=topic, events=events_for(topic, payload, store))


def events_for(topic: str, payload: dict[str, Any], store: str) -> tuple[StoreEvent, ...]:
    try:
        if topic in PRODUCT_TOPICS:
            item = item_from_rest(payload)
            return (StoreEvent(EventKind.PRODUCT_CHANGED, item.product_id, item, item.updated_at),)
        if topic == "products/delete":
            return (StoreEvent(EventKind.PRODUCT_DELETED, product_gid(payload)),)
    except (ValueError, TypeError, KeyError) as error:
        raise BadRequestError(
            f"store '{store}': {topic} webhook has an unreadable product: {error}",
            service="Shopify",
            status=400,
        ) from error
    if topic == "app/uninstalled":
        return (StoreEvent(EventKind.STORE_UNINSTALLED),)
    if topic in PRIVACY_TOPICS:
        return (StoreEvent(EventKind.PRIVACY_REQUEST),)
    return ()
