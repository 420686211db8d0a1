"""Hostile and broken webhook deliveries against the daemon's own HTTP server.

Each case sends one delivery and asserts the status and message, how many
inbox rows it added, that the store listings did not change, and that the
server still answers its health check and records a good delivery of each
store afterwards. Run: `pytest tests/bad_input/test_webhooks.py -q`.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.bad_input.helpers import (
    SHOPIFY_PATH,
    WOOCOMMERCE_PATH,
    RunningDaemon,
    hmac_base64,
    running_daemon,
)

Request = tuple[bytes, dict[str, str]]
ABOVE_2_53 = 2**53 + 12345  # 9007199254753337: a float would round it to ...336


@dataclass(frozen=True)
class WebhookCase:
    name: str
    path: str
    build: Callable[[RunningDaemon], Request]
    status: int
    # A fragment of the JSON "error" field, or of the plain-text body when there is none.
    message: str | None = None
    # Inbox rows the delivery itself adds (1 for a delivery that is recorded).
    recorded: int = 0
    reply: dict[str, Any] | None = None
    method: str = "POST"


def shopify_signed(body: bytes, **headers: str) -> Callable[[RunningDaemon], Request]:
    def build(run: RunningDaemon) -> Request:
        return body, {**run.shopify_headers(body), **headers}

    return build


def woo_signed(body: bytes, **headers: str) -> Callable[[RunningDaemon], Request]:
    def build(run: RunningDaemon) -> Request:
        return body, {**run.woo_headers(body), **headers}

    return build


def shopify_without(header: str) -> Callable[[RunningDaemon], Request]:
    def build(run: RunningDaemon) -> Request:
        body, headers = run.shopify_delivery()
        return body, {name: value for name, value in headers.items() if name != header}

    return build


def woo_without(header: str) -> Callable[[RunningDaemon], Request]:
    def build(run: RunningDaemon) -> Request:
        body, headers = run.woo_delivery()
        return body, {name: value for name, value in headers.items() if name != header}

    return build


def shopify_with(**headers: str) -> Callable[[RunningDaemon], Request]:
    def build(run: RunningDaemon) -> Request:
        body, good = run.shopify_delivery()
        return body, {**good, **headers}

    return build


def woo_with(**headers: str) -> Callable[[RunningDaemon], Request]:
    def build(run: RunningDaemon) -> Request:
        body, good = run.woo_delivery()
        return body, {**good, **headers}

    return build


def shopify_tampered(run: RunningDaemon) -> Request:
    """A genuine signature over one body, sent with another (a replay with an edited title)."""
    body, headers = run.shopify_delivery()
    return body.replace(b'"title":"', b'"title":"Edited '), headers


def woo_tampered(run: RunningDaemon) -> Request:
    body, headers = run.woo_delivery()
    return body.replace(b'"name": "', b'"name": "Edited '), headers


def shopify_other_secret(run: RunningDaemon) -> Request:
    body, headers = run.shopify_delivery()
    return body, {**headers, "X-Shopify-Hmac-Sha256": hmac_base64("another-app-secret", body)}


def woo_other_secret(run: RunningDaemon) -> Request:
    body, headers = run.woo_delivery()
    return body, {**headers, "X-WC-Webhook-Signature": hmac_base64("another-secret", body)}


def shopify_payload(change: Callable[[dict[str, Any]], None]) -> Callable[[RunningDaemon], Request]:
    """A signed products/update whose REST payload ``change`` edits first."""

    def build(run: RunningDaemon) -> Request:
        body, _ = run.shopify_delivery()
        payload = json.loads(body)
        change(payload)
        edited = json.dumps(payload).encode("utf-8")
        return edited, run.shopify_headers(edited)

    return build


def woo_payload(change: Callable[[dict[str, Any]], None]) -> Callable[[RunningDaemon], Request]:
    def build(run: RunningDaemon) -> Request:
        payload = run.woo_payload()
        change(payload)
        return run.woo_delivery(payload)

    return build


def drop_gid_and_set_id(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload.pop("admin_graphql_api_id", None)
        payload["id"] = value

    return change


def set_field(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload[key] = value

    return change


def oversized(path: str) -> Callable[[RunningDaemon], Request]:
    def build(run: RunningDaemon) -> Request:
        body = b'{"id": 1, "padding": "' + b"x" * (6 * 1024 * 1024) + b'"}'
        headers = run.shopify_headers(body) if path == SHOPIFY_PATH else run.woo_headers(body)
        return body, headers

    return build


NESTED = b"[" * 200_000 + b"]" * 200_000
NOT_UTF8 = b'{"title": "\xff\xfe caf\xe9"}'

CASES = [
    # Bodies that are not JSON objects.
    WebhookCase(
        "shopify malformed json",
        SHOPIFY_PATH,
        shopify_signed(b'{"id": 1,'),
        400,
        "is not UTF-8 JSON",
    ),
    WebhookCase(
        "woo malformed json", WOOCOMMERCE_PATH, woo_signed(b'{"id": 1,'), 400, "body is not JSON"
    ),
    WebhookCase(
        "shopify empty body signed", SHOPIFY_PATH, shopify_signed(b""), 400, "is not UTF-8 JSON"
    ),
    WebhookCase(
        "woo empty body signed", WOOCOMMERCE_PATH, woo_signed(b""), 400, "body is not JSON"
    ),
    WebhookCase(
        "shopify empty body unsigned",
        SHOPIFY_PATH,
        lambda run: (b"", {}),
        401,
        "no X-Shopify-Hmac-Sha256 header",
    ),
    WebhookCase(
        "woo empty body unsigned",
        WOOCOMMERCE_PATH,
        lambda run: (b"", {}),
        401,
        "no X-WC-Webhook-Signature header",
    ),
    WebhookCase(
        "shopify json array", SHOPIFY_PATH, shopify_signed(b"[1, 2]"), 400, "is not a JSON object"
    ),
    WebhookCase(
        "woo json array", WOOCOMMERCE_PATH, woo_signed(b"[1, 2]"), 400, "is not a JSON object"
    ),
    WebhookCase(
        "shopify json string",
        SHOPIFY_PATH,
        shopify_signed(b'"product"'),
        400,
        "is not a JSON object",
    ),
    WebhookCase(
        "shopify not utf-8", SHOPIFY_PATH, shopify_signed(NOT_UTF8), 400, "is not UTF-8 JSON"
    ),
    WebhookCase("woo not utf-8", WOOCOMMERCE_PATH, woo_signed(NOT_UTF8), 400, "body is not JSON"),
    WebhookCase(
        "shopify deeply nested json", SHOPIFY_PATH, shopify_signed(NESTED), 400, "is not UTF-8 JSON"
    ),
    WebhookCase(
        "woo deeply nested json", WOOCOMMERCE_PATH, woo_signed(NESTED), 400, "body is not JSON"
    ),
    # Content types: the signature covers the body, so a signed JSON body is read
    # whatever the header says, and an unsigned one is never trusted.
    WebhookCase(
        "shopify text/plain signed json",
        SHOPIFY_PATH,
        shopify_with(**{"Content-Type": "text/plain"}),
        200,
        reply={"status": "accepted"},
        recorded=1,
    ),
    WebhookCase(
        "shopify xml body signed",
        SHOPIFY_PATH,
        shopify_signed(b"<product><id>1</id></product>", **{"Content-Type": "application/xml"}),
        400,
        "is not UTF-8 JSON",
    ),
    WebhookCase(
        "woo xml body signed",
        WOOCOMMERCE_PATH,
        woo_signed(b"<product><id>1</id></product>", **{"Content-Type": "application/xml"}),
        400,
        "body is not JSON",
    ),
    WebhookCase(
        "woo form body unsigned",
        WOOCOMMERCE_PATH,
        lambda run: (b"id=11&name=x", {"Content-Type": "application/x-www-form-urlencoded"}),
        401,
        "no X-WC-Webhook-Signature header",
    ),
    WebhookCase(
        "woo form ping non-numeric id",
        WOOCOMMERCE_PATH,
        lambda run: (b"webhook_id=abc", {"Content-Type": "application/x-www-form-urlencoded"}),
        401,
        "no X-WC-Webhook-Signature header",
    ),
    WebhookCase(
        "woo creation ping",
        WOOCOMMERCE_PATH,
        lambda run: (b"webhook_id=7", {"Content-Type": "application/x-www-form-urlencoded"}),
        200,
        message="",
    ),
    WebhookCase(
        "shopify multipart unsigned",
        SHOPIFY_PATH,
        lambda run: (b"--b\r\n\r\nx\r\n--b--", {"Content-Type": "multipart/form-data; boundary=b"}),
        401,
        "no X-Shopify-Hmac-Sha256 header",
    ),
    # Size.
    WebhookCase(
        "shopify oversized body",
        SHOPIFY_PATH,
        oversized(SHOPIFY_PATH),
        413,
        "webhook body over 5242880 bytes",
    ),
    WebhookCase(
        "woo oversized body",
        WOOCOMMERCE_PATH,
        oversized(WOOCOMMERCE_PATH),
        413,
        "webhook body over 5242880 bytes",
    ),
    # Routing.
    WebhookCase(
        "unknown store",
        "/webhooks/shopify/nosuchshop",
        shopify_with(),
        404,
        "no shopify store named 'nosuchshop' is configured",
    ),
    WebhookCase(
        "platform mismatch",
        "/webhooks/woocommerce/shop",
        shopify_with(),
        404,
        "no woocommerce store named 'shop' is configured",
    ),
    WebhookCase(
        "unknown platform",
        "/webhooks/magento/shop",
        shopify_with(),
        404,
        "no magento store named 'shop' is configured",
    ),
    WebhookCase(
        "get on webhook route",
        SHOPIFY_PATH,
        shopify_with(),
        405,
        "Method Not Allowed",
        method="GET",
    ),
    # Signatures.
    WebhookCase(
        "shopify missing signature",
        SHOPIFY_PATH,
        shopify_without("X-Shopify-Hmac-Sha256"),
        401,
        "webhook has no X-Shopify-Hmac-Sha256 header; it did not come from Shopify",
    ),
    WebhookCase(
        "shopify wrong signature",
        SHOPIFY_PATH,
        shopify_with(**{"X-Shopify-Hmac-Sha256": "AAAA"}),
        401,
        "webhook signature does not match; check the store's webhook secret",
    ),
    WebhookCase(
        "shopify empty signature",
        SHOPIFY_PATH,
        shopify_with(**{"X-Shopify-Hmac-Sha256": ""}),
        401,
        "no X-Shopify-Hmac-Sha256 header",
    ),
    WebhookCase(
        "shopify signature other secret",
        SHOPIFY_PATH,
        shopify_other_secret,
        401,
        "webhook signature does not match",
    ),
    WebhookCase(
        "shopify tampered body",
        SHOPIFY_PATH,
        shopify_tampered,
        401,
        "webhook signature does not match",
    ),
    WebhookCase(
        "shopify non-ascii signature",
        SHOPIFY_PATH,
        shopify_with(**{"X-Shopify-Hmac-Sha256": "ç"}),
        401,
        "webhook signature does not match",
    ),
    WebhookCase(
        "woo missing signature",
        WOOCOMMERCE_PATH,
        woo_without("X-WC-Webhook-Signature"),
        401,
        "webhook delivery has no X-WC-Webhook-Signature header; "
        "check that the request comes from the store",
    ),
    WebhookCase(
        "woo wrong signature",
        WOOCOMMERCE_PATH,
        woo_with(**{"X-WC-Webhook-Signature": "AAAA"}),
        401,
        "webhook signature does not match; "
        "check that the store's webhook secret equals the configured webhook_secret",
    ),
    WebhookCase(
        "woo signature other secret",
        WOOCOMMERCE_PATH,
        woo_other_secret,
        401,
        "webhook signature does not match",
    ),
    WebhookCase(
        "woo tampered body", WOOCOMMERCE_PATH, woo_tampered, 401, "webhook signature does not match"
    ),
    WebhookCase(
        "woo non-ascii signature",
        WOOCOMMERCE_PATH,
        woo_with(**{"X-WC-Webhook-Signature": "ç"}),
        401,
        "webhook signature does not match",
    ),
    # Headers and payload shapes.
    WebhookCase(
        "shopify missing topic",
        SHOPIFY_PATH,
        shopify_without("X-Shopify-Topic"),
        400,
        "webhook lacks X-Shopify-Topic or an event id header",
    ),
    WebhookCase(
        "shopify missing event ids",
        SHOPIFY_PATH,
        lambda run: strip_ids(run),
        400,
        "webhook lacks X-Shopify-Topic or an event id header",
    ),
    WebhookCase(
        "shopify unknown topic",
        SHOPIFY_PATH,
        shopify_with(**{"X-Shopify-Topic": "orders/create"}),
        200,
        reply={"status": "accepted"},
        recorded=1,
    ),
    WebhookCase(
        "shopify boolean product id",
        SHOPIFY_PATH,
        shopify_payload(drop_gid_and_set_id(True)),
        400,
        "has an unreadable product: product payload has no usable id",
    ),
    WebhookCase(
        "shopify float product id",
        SHOPIFY_PATH,
        shopify_payload(drop_gid_and_set_id(1.8e19)),
        400,
        "has an unreadable product: product payload has no usable id",
    ),
    WebhookCase(
        "shopify id above 2**53",
        SHOPIFY_PATH,
        shopify_payload(drop_gid_and_set_id(ABOVE_2_53)),
        200,
        reply={"status": "accepted"},
        recorded=1,
    ),
    WebhookCase(
        "shopify gid above 2**53",
        SHOPIFY_PATH,
        shopify_payload(set_field("admin_graphql_api_id", f"gid://shopify/Product/{ABOVE_2_53}")),
        200,
        reply={"status": "accepted"},
        recorded=1,
    ),
    WebhookCase(
        "woo id above 2**53",
        WOOCOMMERCE_PATH,
        woo_payload(set_field("id", ABOVE_2_53)),
        200,
        reply={"status": "accepted"},
        recorded=1,
    ),
    WebhookCase(
        "woo float product id",
        WOOCOMMERCE_PATH,
        woo_payload(set_field("id", 1.8e19)),
        400,
        "product id 1.8e+19 is not an integer",
    ),
    WebhookCase(
        "woo error body without id",
        WOOCOMMERCE_PATH,
        woo_signed(b'{"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."}'),
        200,
        reply={"status": "accepted"},
        recorded=1,
    ),
    WebhookCase(
        "shopify unicode title",
        SHOPIFY_PATH,
        shopify_payload(set_field("title", "Kapüşonlu 🧥 سترة")),
        200,
        reply={"status": "accepted"},
        recorded=1,
    ),
    WebhookCase(
        "woo unicode title",
        WOOCOMMERCE_PATH,
        woo_payload(set_field("name", "Kapüşonlu 🧥 سترة")),
        200,
        reply={"status": "accepted"},
        recorded=1,
    ),
]


def strip_ids(run: RunningDaemon) -> Request:
    body, headers = run.shopify_delivery()
    return body, {
        name: value
        for name, value in headers.items()
        if name not in ("X-Shopify-Event-Id", "X-Shopify-Webhook-Id")
    }


def listing_snapshot(run: RunningDaemon) -> tuple[object, ...]:
    """Product ids with their image ids on both simulated stores."""
    shop = run.sims.shopify_state.catalogue
    woo = run.sims.woocommerce_state
    return (
        sorted((p.id, tuple(p.media_ids), p.title) for p in shop.products.values()),
        sorted((p.id, tuple(p.image_ids), p.name) for p in woo.products.values()),
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_bad_webhook(case: WebhookCase, tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        listings = listing_snapshot(run)
        before = await run.inbox_keys()
        body, headers = case.build(run)

        async with run.http.request(
            case.method, run.url + case.path, data=io.BytesIO(body), headers=headers
        ) as response:
            status, text = response.status, await response.text()

        assert status == case.status, text[:500]
        if case.reply is not None:
            assert json.loads(text) == case.reply
        if case.message is not None:
            shown = json.loads(text).get("error", text) if text.startswith("{") else text
            assert case.message in shown, shown
        for secret in (run.sims.shopify.webhook_secret, "acceptance-webhook-secret"):
            assert secret not in text

        after = await run.inbox_keys()
        assert len(after) - len(before) == case.recorded, after
        assert listing_snapshot(run) == listings
        await run.assert_still_serving()


async def test_duplicate_delivery_recorded_once(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        body, headers = run.shopify_delivery(event_id="repeated-event")

        first = await run.post(SHOPIFY_PATH, body, headers)
        second = await run.post(SHOPIFY_PATH, body, {**headers, "X-Shopify-Webhook-Id": "retry"})

        assert first == (200, {"status": "accepted"})
        assert second == (200, {"status": "duplicate"})
        assert (await run.inbox_keys()).count("repeated-event") == 1
        await run.assert_still_serving()


async def test_oversized_chunked_body_rejected(tmp_path: Path) -> None:
    """A body sent without Content-Length is cut off at the limit too."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(7):
            yield b"x" * (1024 * 1024)

    async with running_daemon(tmp_path) as run:
        async with run.http.post(
            run.url + SHOPIFY_PATH, data=chunks(), headers=run.shopify_headers(b"")
        ) as response:
            assert response.status == 413
        assert await run.inbox_keys() == []
        await run.assert_still_serving()


@pytest.mark.parametrize(
    ("path", "product_id"),
    [
        (SHOPIFY_PATH, f"gid://shopify/Product/{ABOVE_2_53}"),
        (WOOCOMMERCE_PATH, str(ABOVE_2_53)),
    ],
    ids=["shopify", "woo"],
)
async def test_id_above_2_53_kept_exact(path: str, product_id: str, tmp_path: Path) -> None:
    """A product id above 2**53 reaches the product link digit for digit."""
    async with running_daemon(tmp_path) as run:
        if path == SHOPIFY_PATH:
            body, headers = shopify_payload(drop_gid_and_set_id(ABOVE_2_53))(run)
        else:
            body, headers = woo_payload(set_field("id", ABOVE_2_53))(run)
        assert (await run.post(path, body, headers))[0] == 200

        await run.daemon.engine.run_due()

        store = "shop" if path == SHOPIFY_PATH else "woo"
        link = await run.link(store, product_id)
        assert link.product_id == product_id
        assert str(ABOVE_2_53) in link.product_id
