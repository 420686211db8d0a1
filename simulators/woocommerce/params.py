"""Query parameter checks with WordPress's error details, and the date filters' semantics.

``modified_after`` and friends: a naive value is read as site-local time and
a value with ``Z`` or an offset is converted to site-local time; then
``dates_are_gmt`` picks the column compared (GMT or local), strictly and at
one-second resolution. So naive UTC with the flag, or ``Z`` without it, work.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from simulators.woocommerce.routing import ApiError
from simulators.woocommerce.wire import local_time

ParamErrors = dict[str, tuple[str, str]]

DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|z|[+-]\d{2}:?\d{2})?$"
)
TRUE_VALUES = ("true", "1", "yes")
FALSE_VALUES = ("false", "0", "no", "")


def int_param(
    errors: ParamErrors, query: dict[str, str], name: str, default: int, low: int, high: int | None
) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d+", raw.strip()):
        errors[name] = ("rest_invalid_type", f"{name} is not of type integer.")
        return default
    value = int(raw)
    if high is not None and not low <= value <= high:
        message = f"{name} must be between {low} (inclusive) and {high} (inclusive)"
        errors[name] = ("rest_out_of_bounds", message)
    elif value < low:
        errors[name] = ("rest_out_of_bounds", f"{name} must be greater than or equal to {low}")
    return value


def enum_param(
    errors: ParamErrors, query: dict[str, str], name: str, default: str, allowed: tuple[str, ...]
) -> str:
    value = query.get(name, default)
    if value not in allowed:
        listed = ", ".join(allowed[:-1]) + ", and " + allowed[-1]
        errors[name] = ("rest_not_in_enum", f"{name} is not one of {listed}.")
    return value


def bool_param(errors: ParamErrors, query: dict[str, str], name: str) -> bool:
    raw = query.get(name, "false").lower()
    if raw not in TRUE_VALUES + FALSE_VALUES:
        errors[name] = ("rest_invalid_type", f"{name} is not of type boolean.")
    return raw in TRUE_VALUES


def id_list_param(errors: ParamErrors, query: dict[str, str], name: str) -> list[int] | None:
    raw = query.get(name)
    if raw is None:
        return None
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        errors[name] = ("rest_invalid_type", f"{name}[0] is not of type integer.")
        return None
    return [int(p) for p in parts]


def date_param(
    errors: ParamErrors, query: dict[str, str], name: str, zone: ZoneInfo
) -> datetime | None:
    """Parse a date filter into the naive site-local value WordPress compares with."""
    raw = query.get(name)
    if raw is None:
        return None
    match = DATE.match(raw.strip())
    if match is None:
        errors[name] = ("rest_invalid_date", "Invalid date.")
        return None

    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        value = datetime(year, month, day, hour, minute, second)
    except ValueError:
        errors[name] = ("rest_invalid_date", "Invalid date.")
        return None
    suffix = match.group(7)
    if suffix is None:
        return value
    return local_time(value - _offset(suffix), zone)


def _offset(suffix: str) -> timedelta:
    if suffix in ("Z", "z"):
        return timedelta(0)
    sign = -1 if suffix[0] == "-" else 1
    digits = suffix[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def raise_param_errors(errors: ParamErrors) -> None:
    if errors:
        raise ApiError(
            "rest_invalid_param",
            "Invalid parameter(s): " + ", ".join(errors),
            400,
            params={name: message for name, (_, message) in errors.items()},
            details={
                name: {"code": code, "message": message, "data": None}
                for name, (code, message) in errors.items()
            },
        )
