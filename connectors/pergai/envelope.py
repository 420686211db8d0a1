"""Unwrap PergAI response bodies, which may be bare or wrapped in an object.

The API does not fix a response shape, so a list may come as ``[...]``,
``{"data": [...]}`` or an object with exactly one list value such as
``{"products": [...], "total": 3}``; a record as ``{...}``, ``{"data": {...}}``
or ``{"product": {...}}``. Anything else is an ``InvalidResponseError`` that
names the endpoint.
"""

from __future__ import annotations

from typing import Any

from sync.errors import InvalidResponseError

SERVICE = "PergAI"


def unwrap_list(payload: Any, endpoint: str) -> list[Any]:
    """Return the list in ``payload``; ``endpoint`` ("GET /products") names the call in errors."""
    if isinstance(payload, list):
        return payload

    if isinstance(payload, dict):
        data = payload.get("data")
        if isinstance(data, list):
            return data

        lists = [value for value in payload.values() if isinstance(value, list)]
        if len(lists) == 1:
            return lists[0]

    raise invalid(endpoint, f"expected a list, got {describe(payload)}")


def unwrap_record(payload: Any, endpoint: str, singular: str) -> dict[str, Any]:
    """Return the record in ``payload``, bare or under ``data`` or its ``singular`` name."""
    if not isinstance(payload, dict):
        raise invalid(endpoint, f"expected an object, got {describe(payload)}")

    if "id" not in payload:
        for key in ("data", singular):
            if isinstance(payload.get(key), dict):
                inner: dict[str, Any] = payload[key]
                return inner
    return payload


def invalid(endpoint: str, reason: str) -> InvalidResponseError:
    return InvalidResponseError(
        f"PergAI returned an unreadable response to {endpoint}: {reason}; "
        "check [pergai] base_url points at the PergAI API (…/api/external/v1)",
        service=SERVICE,
    )


def describe(payload: Any) -> str:
    """Name the JSON shape of ``payload`` without quoting its content."""
    if isinstance(payload, dict):
        keys = ", ".join(sorted(str(key) for key in payload)[:5])
        return f"an object with keys [{keys}]"
    if isinstance(payload, list):
        return "a list"
    if payload is None:
        return "null"
    return f"a {type(payload).__name__}"
