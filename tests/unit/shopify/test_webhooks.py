"""Webhook signatures on raw bytes and the topics the connector turns into events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.base import EventKind
from connectors.shopify.webhooks import parse_delivery, signature
from simulators.shopify.webhooks import shopify_json
from sync.errors import BadRequestError, WebhookSignatureError

SECRET = "test-webhook-secret"


def headers(body: bytes, topic: str = "products/update", secret: str = SECRET) -> dict[str, str]:
    return {
        "x-shopify-topic": topic,
        "X-Shopify-Hmac-Sha256": signature(secret, body),
        "X-Shopify-Event-Id": "event-1",
        "X-Shopify-Webhook-Id": "webhook-1",
    }


def test_known_hmac_vector() -> None:
    body = b'{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}'

    assert signature(SECRET, body) == "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw="


def test_escaped_unicode_body_verifies() -> None:
    payload = {
        "id": 2**60 + 1,
        "title": "Şapka <b>&</b> 🎩 عربى",
        "tags": "a/b",
        "status": "active",
    }
    body = shopify_json(payload)
    assert b"\\u003cb\\u003e" in body and b"\\/" in body and "Ş".encode() in body

    delivery = parse_delivery(SECRET, headers(body), body, "acme")

    item = delivery.events[0].item
    assert item is not None
    assert item.title == "Şapka <b>&</b> 🎩 عربى"
    assert item.product_id == f"gid://shopify/Product/{2**60 + 1}"


def test_reserialised_body_fails() -> None:
    body = shopify_json({"id": 1, "title": "a/b <c>"})
    resent = json.dumps(json.loads(body)).encode()

    with pytest.raises(WebhookSignatureError):
        parse_delivery(SECRET, headers(body), resent, "acme")


def test_wrong_secret_fails() -> None:
    body = b'{"id": 1}'

    with pytest.raises(WebhookSignatureError, match="webhook secret"):
        parse_delivery(SECRET, headers(body, secret="other"), body, "acme")


def test_missing_signature_fails() -> None:
    body = b'{"id": 1}'
    unsigned = {k: v for k, v in headers(body).items() if "Hmac" not in k}

    with pytest.raises(WebhookSignatureError, match="no X-Shopify-Hmac-Sha256"):
        parse_delivery(SECRET, unsigned, body, "acme")


def test_key_prefers_event_id() -> None:
    body = b'{"id": 1}'
    only_webhook = {k: v for k, v in headers(body, "products/delete").items() if "Event" not in k}

    assert parse_delivery(SECRET, headers(body, "products/delete"), body, "acme").key == "event-1"
    assert parse_delivery(SECRET, only_webhook, body, "acme").key == "webhook-1"


def test_signed_garbage_is_bad_request() -> None:
    body = b"not json"

    with pytest.raises(BadRequestError):
        parse_delivery(SECRET, headers(body), body, "acme")


def sample(shared_dir: Path, name: str) -> bytes:
    data = json.loads((shared_dir / "reference" / "shopify" / "webhooks" / name).read_text())
    return json.dumps(data["response"]).encode()


@pytest.mark.parametrize(
    ("name", "topic", "kind"),
    [
        ("docs_sample_2025-10_products_update.json", "products/update", EventKind.PRODUCT_CHANGED),
        ("docs_sample_2025-10_products_create.json", "products/create", EventKind.PRODUCT_CHANGED),
        ("docs_sample_2025-10_products_delete.json", "products/delete", EventKind.PRODUCT_DELETED),
        (
            "docs_sample_2025-10_app_uninstalled.json",
            "app/uninstalled",
            EventKind.STORE_UNINSTALLED,
        ),
        (
            "docs_sample_2025-10_customers_data_request.json",
            "customers/data_request",
            EventKind.PRIVACY_REQUEST,
        ),
        (
            "docs_sample_2025-10_customers_redact.json",
            "customers/redact",
            EventKind.PRIVACY_REQUEST,
        ),
        ("docs_sample_2025-10_shop_redact.json", "shop/redact", EventKind.PRIVACY_REQUEST),
    ],
)
def test_sample_topics(shared_dir: Path, name: str, topic: str, kind: EventKind) -> None:
    body = sample(shared_dir, name)

    delivery = parse_delivery(SECRET, headers(body, topic), body, "acme")

    assert delivery.topic == topic
    assert [event.kind for event in delivery.events] == [kind]


def test_update_sample_keeps_exact_gid(shared_dir: Path) -> None:
    body = sample(shared_dir, "docs_sample_2025-10_products_update.json")

    event = parse_delivery(SECRET, headers(body), body, "acme").events[0]

    assert event.product_id == "gid://shopify/Product/788032119674292922"
    assert event.item is not None
    assert event.item.tags == ("example", "mens", "t-shirt")
    assert event.item.status == "active"
    assert event.item.variants[0].id == "gid://shopify/ProductVariant/642667041472713922"
