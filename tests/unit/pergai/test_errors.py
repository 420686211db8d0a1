"""Mapping PergAI statuses and transport failures to sync.errors classes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connectors.pergai.errors import error_for_exception, error_for_status, parse_retry_after
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

SECRET = "pk_live_secret_0123456789"


def body(message: str) -> str:
    return json.dumps({"error": message})


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (401, body("Unauthorized"), AuthenticationError),
        (403, body("Forbidden"), AuthenticationError),
        (403, body("Insufficient credits"), OutOfCreditsError),
        (402, body("Payment required"), OutOfCreditsError),
        (404, body("Not found"), NotFoundError),
        (400, body("name is required"), BadRequestError),
        (422, body("scene is invalid"), BadRequestError),
        (429, body("Too many requests"), RateLimitedError),
        (500, "<html>boom</html>", ServerError),
        (503, "", ServerError),
        (409, body("conflict"), RemoteError),
    ],
)
def test_status_maps_to_class(status: int, text: str, expected: type[RemoteError]) -> None:
    error = error_for_status(status, text, "POST /products", None, SECRET)

    assert type(error) is expected
    assert error.service == "PergAI"
    assert "POST /products" in str(error)


def test_unauthorized_message_names_setting() -> None:
    error = error_for_status(401, body("Unauthorized"), "GET /products", None, SECRET)

    assert "PERGAI_API_KEY" in str(error)
    assert "[pergai] api_key" in str(error)


def test_bad_request_carries_server_message() -> None:
    text = json.dumps({"error": "Bad Request", "message": "imagePath is required"})

    error = error_for_status(400, text, "POST /products", None, SECRET)

    assert "imagePath is required" in str(error)
    assert "Bad Request" in str(error)


def test_server_text_scrubbed_of_key() -> None:
    text = json.dumps({"message": f"key {SECRET} is revoked"})

    error = error_for_status(401, text, "GET /products", None, SECRET)

    assert SECRET not in str(error)
    assert "revoked" in str(error)


def test_rate_limit_carries_retry_after() -> None:
    error = error_for_status(429, "", "GET /products", "0.2", SECRET)

    assert isinstance(error, RateLimitedError)
    assert error.retry_after == pytest.approx(0.2)


def test_retry_after_seconds() -> None:
    assert parse_retry_after("3") == 3.0


def test_retry_after_http_date() -> None:
    moment = datetime.now(UTC) + timedelta(seconds=30)

    wait = parse_retry_after(format_datetime(moment, usegmt=True))

    assert wait is not None
    assert 28 <= wait <= 30


@pytest.mark.parametrize("value", [None, "", "soon"])
def test_retry_after_unreadable(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_retry_after_past_date_is_zero() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_timeout_outcome_unknown() -> None:
    error = error_for_exception(TimeoutError(), "POST /generations", 5.0)

    assert isinstance(error, RemoteConnectionError)
    assert error.outcome_unknown
    assert "timed out after 5 s" in str(error)
