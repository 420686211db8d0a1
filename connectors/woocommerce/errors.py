"""WooCommerce REST error bodies (``{code, message, data: {status}}``) as ``sync.errors`` classes.

Each message names the store, the request, WooCommerce's own code and reason,
and what to do next.
"""

from __future__ import annotations

from typing import Any

from sync.errors import (
    AuthenticationError,
    BadRequestError,
    ImageError,
    NotFoundError,
    RateLimitedError,
    RemoteError,
    ServerError,
)

SERVICE = "WooCommerce"


class ImageUploadError(BadRequestError, ImageError):
    """WooCommerce could not download or accept the image; the message gives its reason."""


def _retry_after(headers: dict[str, str]) -> float | None:
    try:
        return float(headers.get("retry-after", ""))
    except ValueError:
        return None


def _auth_advice(code: str, reason: str, basic_auth: bool) -> str:
    if "write permissions" in reason:
        return (
            "the API key is read-only; create a key with Read/Write permission in "
            "WooCommerce > Settings > Advanced > REST API"
        )
    if "secret" in reason.lower() or "signature" in reason.lower():
        return "check the consumer secret"
    if "timestamp" in reason.lower():
        return "check this machine's clock: OAuth requests must be signed within 15 minutes"
    if code.startswith("woocommerce_rest_cannot") and basic_auth:
        return (
            "check the consumer key; if the key is right, the host may strip the "
            "Authorization header: set query_string_auth = true"
        )
    if code.startswith("woocommerce_rest_cannot"):
        return "check the consumer key and that its user may manage products"
    return "check the consumer key and secret"


def translate_error(
    store: str,
    method: str,
    endpoint: str,
    status: int,
    body: Any,
    headers: dict[str, str],
    *,
    basic_auth: bool,
) -> RemoteError:
    """Return the ``sync.errors`` exception for a failed response."""
    code = str(body.get("code", "")) if isinstance(body, dict) else ""
    reason = str(body.get("message", "")) if isinstance(body, dict) else ""
    where = f"store '{store}': {method} {endpoint} failed ({status} {code or 'no code'}: {reason})"

    if status == 429:
        return RateLimitedError(
            f"{where}; rate limited, retrying later",
            service=SERVICE,
            retry_after=_retry_after(headers),
        )
    if status >= 500:
        return ServerError(
            f"{where}; the store failed, retrying with backoff", service=SERVICE, status=status
        )
    if status in (401, 403):
        advice = _auth_advice(code, reason, basic_auth)
        return AuthenticationError(f"{where}; {advice}", service=SERVICE, status=status)
    if code == "woocommerce_product_image_upload_error":
        return ImageUploadError(
            f"{where}; the store could not fetch the image: its URL must be public, on port "
            "80, 443 or 8080, and its path must end in an image extension",
            service=SERVICE,
            status=status,
        )
    if code.endswith("invalid_id") or status in (404, 410):
        if code == "rest_no_route":
            return BadRequestError(
                f"{where}; check the store URL and that WooCommerce is active with pretty "
                "permalinks enabled",
                service=SERVICE,
                status=status,
            )
        return NotFoundError(
            f"{where}; the product no longer exists in the store", service=SERVICE, status=status
        )
    return BadRequestError(f"{where}; see WooCommerce's reason", service=SERVICE, status=status)
