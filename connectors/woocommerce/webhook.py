"""Verify and read WooCommerce webhook deliveries.

The signature is base64(HMAC-SHA256(raw body)) keyed with the webhook's own
secret after HTML entities are decoded (a secret stored as ``a&amp;b`` signs
as ``a&b``). The creation ping is form-encoded ``webhook_id=N`` without any
signature. The body is the product as it was at delivery time, so the
de-duplication key is (resource id, ``date_modified_gmt``) or a body digest:
``X-WC-Webhook-Delivery-ID`` derives from the webhook id and the current
second and is shared by different products delivered in the same second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from connectors.base import EventKind, StoreEvent, WebhookDelivery
from connectors.woocommerce.mapping import catalogue_item, parse_gmt
from sync.errors import BadRequestError, WebhookSignatureError

logger = logging.getLogger(__name__)


def signature_for(secret: str, body: bytes) -> str:
    key = html.unescape(secret).encode("utf-8")
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def _ping(headers: Mapping[str, str], body: bytes) -> WebhookDelivery | None:
    if "form-urlencoded" not in headers.get("content-type", ""):
        return None
    values = parse_qs(body.decode("utf-8", "replace"))
    webhook_id = values.get("webhook_id", [""])[0]
    if not webhook_id.isdigit():
        return None
    return WebhookDelivery(
        key=f"woocommerce:ping:{webhook_id}", topic="ping", events=(StoreEvent(EventKind.PING),)
    )


def parse_delivery(
    store: str, secret: str, headers: Mapping[str, str], body: bytes
) -> WebhookDelivery:
    """Return the verified delivery's events; raise on a bad signature or unreadable body."""
    lowered = {name.lower(): value for name, value in headers.items()}
    signature = lowered.get("x-wc-webhook-signature")
    if not signature:
        ping = _ping(lowered, body)
        if ping is not None:
            return ping
        raise WebhookSignatureError(
            f"store '{store}': webhook delivery has no X-WC-Webhook-Signature header; "
            "check that the request comes from the store"
        )
    received = signature.strip().encode("utf-8", "replace")
    if not hmac.compare_digest(received, signature_for(secret, body).encode("ascii")):
        raise WebhookSignatureError(
            f"store '{store}': webhook signature does not match; check that the store's "
            "webhook secret equals the configured webhook_secret"
        )

    topic = lowered.get("x-wc-webhook-topic", "")
    payload = _json(store, topic, body)
    return _delivery(store, topic, payload, body)


def _json(store: str, topic: str, body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise BadRequestError(
            f"store '{store}': webhook {topic or 'delivery'} body is not JSON",
            service="WooCommerce",
        ) from error
    if not isinstance(payload, dict):
        raise BadRequestError(
            f"store '{store}': webhook {topic} body is not a JSON object", service="WooCommerce"
        )
    return payload


def _delivery(store: str, topic: str, payload: dict[str, Any], body: bytes) -> WebhookDelivery:
    digest = hashlib.sha256(body).hexdigest()
    resource_id = payload.get("id")
    if resource_id is None:
        # A product deleted for good before delivery arrives as a REST error body
        # without an id: a hint to reconcile by polling, not an event.
        logger.info(
            "store '%s': webhook %s carried an error body (%s); the next poll reconciles",
            store,
            topic,
            payload.get("code"),
            extra={"action": "webhook_error_body", "store": store},
        )
        return WebhookDelivery(key=f"woocommerce:body:{digest}", topic=topic)
    if isinstance(resource_id, bool) or not isinstance(resource_id, int):
        # A float would round ids above 2**53 and name another product.
        raise BadRequestError(
            f"store '{store}': webhook {topic} product id {resource_id!r} is not an integer",
            service="WooCommerce",
        )

    if topic == "product.deleted":
        event = StoreEvent(EventKind.PRODUCT_DELETED, product_id=str(resource_id))
        return WebhookDelivery(
            key=f"woocommerce:deleted:{resource_id}:{digest}", topic=topic, events=(event,)
        )

    modified = payload.get("date_modified_gmt")
    key = f"woocommerce:{resource_id}:{modified}" if modified else f"woocommerce:body:{digest}"
    return WebhookDelivery(key=key, topic=topic, events=(_change_event(payload),))


def _change_event(payload: dict[str, Any]) -> StoreEvent:
    updated = parse_gmt(payload.get("date_modified_gmt"))
    if payload.get("type") == "variation":
        # A variation's own body: the parent is the product that changed.
        return StoreEvent(
            EventKind.PRODUCT_CHANGED, product_id=str(payload.get("parent_id")), updated_at=updated
        )
    # Variable products carry only variation ids here; the engine re-reads them.
    item = None if payload.get("variations") else catalogue_item(payload)
    return StoreEvent(
        EventKind.PRODUCT_CHANGED, product_id=str(payload["id"]), item=item, updated_at=updated
    )
