"""Translate PergAI HTTP failures into ``sync.errors`` classes with actionable messages.

Messages name the endpoint (method and path, never the query string, which
may carry a URL signature) and never contain the API key: server text is
scrubbed of it before it is quoted.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from sync.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OutOfCreditsError,
    RateLimitedError,
    RemoteConnectionError,
    RemoteError,
    ServerError,
)

SERVICE = "PergAI"
KEY_HINT = "check [pergai] api_key / the PERGAI_API_KEY variable"
MAX_QUOTED = 300


class GenerationTimeoutError(RemoteError):
    """A PergAI generation did not finish in time; run `pergai-sync retry` later to check it."""

    def __init__(self, message: str | None = None, *, generation_id: str) -> None:
        super().__init__(message, service=SERVICE)
        self.generation_id = generation_id


class SignedUrlError(RemoteError):
    """A PergAI file URL expired or has a bad signature; read the record again for a new URL."""


def signed_url_error(status: int, endpoint: str) -> SignedUrlError:
    return SignedUrlError(
        f"PergAI rejected the file URL ({status}) on {endpoint}: it expired or its signature "
        "is invalid; read the generation or product again for a fresh URL",
        service=SERVICE,
        status=status,
    )


def error_for_status(
    status: int, body: str, endpoint: str, retry_after: str | None, secret: str
) -> RemoteError:
    """Build the error for a non-2xx ``status``; ``secret`` is scrubbed from quoted server text."""
    reason = server_reason(body).replace(secret, "***") if secret else server_reason(body)
    suffix = f": {reason}" if reason else ""

    if status == 401 or (status == 403 and not mentions_credits(reason)):
        return AuthenticationError(
            f"PergAI rejected the API key ({status}) on {endpoint}{suffix}; {KEY_HINT}",
            service=SERVICE,
            status=status,
        )
    if status in (402, 403):
        return OutOfCreditsError(
            f"PergAI account is out of credits ({status}) on {endpoint}{suffix}; "
            "top it up, then run `pergai-sync retry`",
            service=SERVICE,
            status=status,
        )
    if status == 404:
        return NotFoundError(
            f"PergAI has no such record ({status}) on {endpoint}{suffix}",
            service=SERVICE,
            status=status,
        )
    if status in (400, 422):
        return BadRequestError(
            f"PergAI rejected the request as invalid ({status}) on {endpoint}{suffix}; "
            "fix the value it names",
            service=SERVICE,
            status=status,
        )
    if status == 429:
        return RateLimitedError(
            f"PergAI is rate limiting requests (429) on {endpoint}; pergai-sync waits and retries",
            service=SERVICE,
            retry_after=parse_retry_after(retry_after),
        )
    if status >= 500:
        return ServerError(
            f"PergAI failed with a server error ({status}) on {endpoint}{suffix}; "
            "pergai-sync retries with backoff",
            service=SERVICE,
            status=status,
        )
    return RemoteError(
        f"PergAI returned an unexpected status {status} on {endpoint}{suffix}",
        service=SERVICE,
        status=status,
    )


def error_for_exception(error: Exception, endpoint: str, timeout: float) -> RemoteConnectionError:
    """Translate an aiohttp or timeout exception; only a failed connect is a known non-send."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return RemoteConnectionError(
            f"could not connect to PergAI for {endpoint} ({error.os_error or error}); "
            "check [pergai] base_url and the network",
            service=SERVICE,
            outcome_unknown=False,
        )
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        detail = f"timed out after {timeout:g} s"
    else:
        detail = f"connection failed ({type(error).__name__}: {error})"
    return RemoteConnectionError(
        f"PergAI request {endpoint} {detail}; the request may have been processed",
        service=SERVICE,
        outcome_unknown=True,
    )


def server_reason(body: str) -> str:
    """Return the ``error``/``message`` text of a JSON error body, else the start of the body."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body.strip()[:MAX_QUOTED]

    if isinstance(payload, dict):
        parts = [str(payload[key]) for key in ("error", "message") if payload.get(key)]
        unique = list(dict.fromkeys(parts))
        if unique:
            return " - ".join(unique)[:MAX_QUOTED]
    return body.strip()[:MAX_QUOTED]


def mentions_credits(reason: str) -> bool:
    lowered = reason.lower()
    return any(word in lowered for word in ("credit", "quota", "balance", "payment"))


def parse_retry_after(value: str | None) -> float | None:
    """Parse ``Retry-After`` as seconds or an HTTP date; return None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
