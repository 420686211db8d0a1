"""Authentication exactly as WooCommerce's REST authentication checks it.

Over HTTPS: HTTP Basic with the consumer key and secret, else the
``consumer_key``/``consumer_secret`` query parameters. Over plain HTTP: OAuth
1.0a one-legged, signed over the method, the URL without query and the sorted,
twice-encoded query parameters (the JSON body is not signed), with a 15-minute
timestamp window and single-use nonces. An unknown key is not an error by
itself: the request runs unauthenticated and the route refuses it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from aiohttp import web

from simulators.woocommerce.model import ApiKey
from simulators.woocommerce.settings import WooSettings
from simulators.woocommerce.state import WooState

OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
TIMESTAMP_WINDOW = 15 * 60


class AuthFailure(Exception):
    """An authentication error WooCommerce reports with 401 before routing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Caller:
    """The request's sender: its API key, or None for an anonymous request."""

    key: ApiKey | None
    https: bool


def is_https(request: web.Request, settings: WooSettings) -> bool:
    if settings.https:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").lower()
    return settings.trust_forwarded_proto and forwarded == "https"


def query_params(request: web.Request) -> dict[str, str]:
    """Return the query as PHP's $_GET parses it, where the last value of a repeated name wins."""
    return dict(request.query.items())


def authenticate(request: web.Request, state: WooState) -> Caller:
    """Identify the caller; raises ``AuthFailure`` for a wrong secret or signature."""
    https = is_https(request, state.settings)
    params = query_params(request)
    key = _basic_or_query(request, params, state) if https else _oauth(request, params, state)
    return Caller(key, https)


def _basic_or_query(request: web.Request, params: dict[str, str], state: WooState) -> ApiKey | None:
    consumer_key, consumer_secret = _basic_credentials(request, state.settings)
    if not (consumer_key and consumer_secret):
        consumer_key = params.get("consumer_key", "")
        consumer_secret = params.get("consumer_secret", "")
    if not (consumer_key and consumer_secret):
        return None

    key = state.keys.get(consumer_key)
    if key is None:
        return None
    if not hmac.compare_digest(key.consumer_secret, consumer_secret):
        raise AuthFailure("Consumer secret is invalid.")
    return key


def _basic_credentials(request: web.Request, settings: WooSettings) -> tuple[str, str]:
    header = "" if settings.strip_authorization else request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return "", ""
    try:
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


def _oauth(request: web.Request, params: dict[str, str], state: WooState) -> ApiKey | None:
    present = [name for name in OAUTH_PARAMS if params.get(name)]
    if not present:
        return None
    missing = [name for name in OAUTH_PARAMS if name not in present]
    if missing:
        raise AuthFailure(f"Missing OAuth parameter(s) {', '.join(missing)}")

    key = state.keys.get(params["oauth_consumer_key"])
    if key is None:
        raise AuthFailure("Consumer key is invalid.")

    _check_signature(request, params, key)
    _check_timestamp_and_nonce(params, key, state)
    return key


def _check_signature(request: web.Request, params: dict[str, str], key: ApiKey) -> None:
    method = params["oauth_signature_method"]
    if method not in ("HMAC-SHA1", "HMAC-SHA256"):
        raise AuthFailure("Invalid signature - signature method is invalid.")

    base_url = f"http://{request.host}{request.path}"
    expected = oauth_signature(request.method, base_url, params, key.consumer_secret, method)
    provided = params["oauth_signature"].replace(" ", "+")
    if not hmac.compare_digest(expected, provided):
        raise AuthFailure("Invalid signature - provided signature does not match.")


def _check_timestamp_and_nonce(params: dict[str, str], key: ApiKey, state: WooState) -> None:
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError as error:
        raise AuthFailure("Invalid timestamp.") from error
    now = int(time.time())
    if timestamp < now - TIMESTAMP_WINDOW:
        raise AuthFailure("Invalid timestamp.")

    nonce_key = f"{key.consumer_key}:{params['oauth_nonce']}"
    if nonce_key in state.used_nonces:
        raise AuthFailure("Invalid nonce - nonce has already been used.")
    state.used_nonces = {k: t for k, t in state.used_nonces.items() if t >= now - TIMESTAMP_WINDOW}
    state.used_nonces[nonce_key] = timestamp


def php_rawurlencode(text: str) -> str:
    return quote(text, safe="-_.~")


def php_urlencode(text: str) -> str:
    # Python never encodes "~"; PHP's urlencode does.
    return quote_plus(text, safe="-_.").replace("~", "%7E")


def oauth_signature(
    method: str, base_url: str, params: dict[str, str], consumer_secret: str, algorithm: str
) -> str:
    """Compute the signature WooCommerce expects for a request (server side, PHP semantics)."""
    signed = {k: v for k, v in params.items() if k != "oauth_signature"}
    pairs = []
    for name in sorted(signed, key=lambda k: k.encode("utf-8")):
        joined = f"{php_rawurlencode(name)}={php_rawurlencode(signed[name])}"
        pairs.append(php_urlencode(joined).replace("%5B", "[").replace("%5D", "]"))
    text = f"{method.upper()}&{php_rawurlencode(base_url)}&{'%26'.join(pairs)}"

    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    mac = hmac.new(f"{consumer_secret}&".encode(), text.encode("utf-8"), digest).digest()
    return base64.b64encode(mac).decode("ascii")
