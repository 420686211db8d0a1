"""WooCommerce's wire conventions: PHP-style JSON, zone-less dates and REST error bodies.

PHP's ``json_encode`` escapes ``/`` as ``\\/`` and every non-ASCII character
as ``\\uXXXX`` (surrogate pairs above the BMP), which is what a real store
sends and what a client's parser must accept.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

WIRE_DATE = "%Y-%m-%dT%H:%M:%S"
JSON_TYPE = "application/json; charset=UTF-8"


def php_json(value: Any) -> str:
    """Encode ``value`` as PHP's json_encode does with its default flags."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    # A "/" can only occur inside a JSON string, so replacing it is safe.
    return text.replace("/", "\\/")


def json_response(
    value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=php_json(value).encode("ascii"),
        status=status,
        headers={"Content-Type": JSON_TYPE, **(headers or {})},
    )


def error_body(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status, **data}}


def error_response(code: str, message: str, status: int, **data: Any) -> web.Response:
    return json_response(error_body(code, message, status, **data), status=status)


def wire_date(value: datetime | None) -> str | None:
    return value.strftime(WIRE_DATE) if value is not None else None


def local_time(gmt: datetime, zone: ZoneInfo) -> datetime:
    """Convert a naive UTC time to the naive site-local time."""
    offset = zone.utcoffset(gmt) or timedelta(0)
    return gmt + offset


def gmt_time(local: datetime, zone: ZoneInfo) -> datetime:
    """Convert a naive site-local time to naive UTC."""
    offset = zone.utcoffset(local) or timedelta(0)
    return local - offset
