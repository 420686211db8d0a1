"""Signed, expiring file URLs, the way PergAI hands out product and result images."""

from __future__ import annotations

import hashlib
import hmac
import time


def signature(secret: bytes, path: str, expires: int) -> str:
    message = f"{path}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_url(origin: str, path: str, secret: bytes, ttl: float) -> str:
    """Return ``origin + path`` with an expiry ``ttl`` seconds from now and its signature."""
    expires = int(time.time() + ttl)
    return f"{origin}{path}?expires={expires}&signature={signature(secret, path, expires)}"


def check_signature(secret: bytes, path: str, expires: str, given: str) -> str | None:
    """Return why the signed URL is invalid ("expired", "bad signature"), or None when valid."""
    try:
        moment = int(expires)
    except ValueError:
        return "bad signature"

    if not hmac.compare_digest(signature(secret, path, moment), given):
        return "bad signature"
    if moment < time.time():
        return "expired"
    return None
