"""The base model and the field types shared by every config section.

Every section rejects unknown keys (so a typo is an error, not a silently
ignored setting) and validates strictly: TOML already carries types, so
`port = "8080"` is reported instead of being coerced.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ASPECT_RATIO = re.compile(r"[1-9][0-9]*:[1-9][0-9]*")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")
_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?[smhd])+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

DURATION_HELP = (
    "write seconds (e.g. 90) or a number with a unit s, m, h or d "
    "(e.g. '30s', '15m', '1h30m', '1d')"
)


class ConfigModel(BaseModel):
    """A config table: unknown keys are errors and values are not coerced between types."""

    model_config = ConfigDict(extra="forbid", strict=True)


def invalid(message: str) -> PydanticCustomError:
    """Build a validation error whose text is ``message`` as written.

    The message is passed as context, not as the template, so braces in a
    value the user wrote (templates contain them) are not interpreted.
    """
    return PydanticCustomError("config_invalid", "{message}", {"message": message})


# A problem found by a cross-field check: the key path below the validated
# table (empty for the table itself) and the message.
LocatedProblem = tuple[tuple[str | int, ...], str]


def invalid_many(problems: list[LocatedProblem]) -> PydanticCustomError:
    """Build one validation error that carries several problems, each at its own key path.

    A model validator can raise only one error, and its location is the
    table; the error formatter expands these into one line per problem.
    NOTE: pydantic runs a table's model validator only once all its keys are
    valid, so these problems appear after the key errors are fixed (the loader
    re-checks duplicate names and output keys on the raw file to report them early).
    """
    summary = "; ".join(message for _, message in problems)
    return PydanticCustomError(
        "config_problems", "{summary}", {"summary": summary, "problems": problems}
    )


def show(value: object, limit: int = 60) -> str:
    """Render a config value the way TOML writes it, shortened for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"

    if isinstance(value, dict):
        return "a table"

    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_duration(value: object) -> float:
    """Return a duration in seconds from a number of seconds or a text such as '1h30m'.

    Raises a validation error on anything else and on durations that are not
    above zero.
    """
    seconds = _duration_seconds(value)
    if seconds <= 0:
        raise invalid(f"invalid duration {show(value)}: must be greater than 0")

    return seconds


def _duration_seconds(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)

    if not isinstance(value, str):
        raise invalid(f"invalid duration {show(value)}; {DURATION_HELP}")

    text = value.strip().lower()
    if _NUMBER.fullmatch(text):
        return float(text)

    if not _DURATION.fullmatch(text):
        raise invalid(f"invalid duration {show(value)}; {DURATION_HELP}")

    return sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(text))


def _check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise invalid(
            f"invalid name {show(value)}; use lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit (the name appears in webhook URLs)"
        )

    return value


def _check_aspect_ratio(value: str) -> str:
    if not _ASPECT_RATIO.fullmatch(value):
        raise invalid(
            f"invalid aspect ratio {show(value)}; write width:height, e.g. '1:1' or '16:9'"
        )

    return value


def _check_non_empty(value: str) -> str:
    if not value.strip():
        raise invalid("invalid value '': must not be empty")

    return value.strip()


def check_http_url(value: str, *, https_unless_loopback: bool) -> str:
    """Return ``value`` without a trailing slash when it is an http(s) URL with a host.

    With ``https_unless_loopback`` plain http is accepted only for loopback
    hosts, because the URL receives a secret (an API key or access token).
    """
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(f"invalid URL {show(value)}; expected http:// or https:// and a host name")

    if https_unless_loopback and parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise invalid(
            f"invalid URL {show(value)}: plain http would send credentials unencrypted; "
            "use https (http is accepted only for 127.0.0.1, localhost and ::1)"
        )

    return value.rstrip("/")


def _check_secure_url(value: str) -> str:
    return check_http_url(value, https_unless_loopback=True)


def _check_any_http_url(value: str) -> str:
    return check_http_url(value, https_unless_loopback=False)


def _to_duration(value: Any) -> float:
    return parse_duration(value)


# Seconds as a float; the file may write a number of seconds or '15m'-style text.
Duration = Annotated[float, BeforeValidator(_to_duration)]
Slug = Annotated[str, AfterValidator(_check_slug)]
AspectRatio = Annotated[str, AfterValidator(_check_aspect_ratio)]
NonEmptyStr = Annotated[str, AfterValidator(_check_non_empty)]
SecureUrl = Annotated[str, AfterValidator(_check_secure_url)]
HttpUrl = Annotated[str, AfterValidator(_check_any_http_url)]
