"""Secrets as `${VAR}` references, resolved from the environment at load time.

A config file gets committed and copied around, so a credential written in
it is rejected: the file names an environment variable and the value stays
in the environment. Resolved values are held as ``EnvSecret`` (a pydantic
``SecretStr``), so they never show in a repr, an error message or a log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    PlainSerializer,
    PlainValidator,
    SecretStr,
    SerializationInfo,
    ValidationInfo,
)

from sync.config.fields import invalid

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Variable names suggested in error messages, by key.
_EXAMPLE_VARIABLES = {
    "api_key": "PERGAI_API_KEY",
    "access_token": "SHOPIFY_ACCESS_TOKEN",
    "consumer_key": "WC_CONSUMER_KEY",
    "consumer_secret": "WC_CONSUMER_SECRET",
    "webhook_secret": "WEBHOOK_SECRET",
}

# Keys whose values are never repeated in an error message.
SECRET_KEYS = frozenset(
    {"api_key", "access_token", "consumer_key", "consumer_secret", "webhook_secret"}
)


class EnvSecret(SecretStr):
    """A secret read from an environment variable; ``variable`` names it for error messages."""

    def __init__(self, secret_value: str, variable: str) -> None:
        super().__init__(secret_value)
        self.variable = variable


def context_env(info: ValidationInfo) -> Mapping[str, str]:
    """Return the environment the loader passed in, or the process environment."""
    context = info.context if isinstance(info.context, dict) else {}
    env = context.get("env")
    return env if env is not None else os.environ


def context_config_dir(info: ValidationInfo) -> Path:
    """Return the folder of the config file; relative paths in the file are resolved against it."""
    context = info.context if isinstance(info.context, dict) else {}
    config_dir = context.get("config_dir")
    return Path(config_dir) if config_dir is not None else Path.cwd()


def lookup_env(variable: str, env: Mapping[str, str]) -> str:
    """Return the value of ``variable``, raising a validation error when it is unset or empty."""
    value = env.get(variable)
    if value is None:
        raise invalid(
            f"environment variable {variable} is not set; export it before running pergai-sync"
        )

    if not value.strip():
        raise invalid(f"environment variable {variable} is empty; set it to the secret")

    return value


def _resolve_secret(value: Any, info: ValidationInfo) -> EnvSecret:
    field = info.field_name or "secret"
    example = "${" + _EXAMPLE_VARIABLES.get(field, field.upper()) + "}"
    if not isinstance(value, str):
        raise invalid(f"expected a reference to an environment variable such as '{example}'")

    match = ENV_REFERENCE.fullmatch(value.strip())
    if match is None:
        # The literal is not repeated: it is the secret itself.
        raise invalid(
            "a secret written in the config file is not allowed (config files get committed); "
            f"write a reference such as '{example}' and set that environment variable"
        )

    variable = match.group(1)
    return EnvSecret(lookup_env(variable, context_env(info)), variable)


def expand_env_references(value: str, info: ValidationInfo) -> str:
    """Replace every `${VAR}` inside ``value`` with the variable's value."""
    env = context_env(info)
    return ENV_REFERENCE.sub(lambda match: lookup_env(match.group(1), env), value)


def _serialize_secret(secret: EnvSecret, info: SerializationInfo) -> str | EnvSecret:
    # JSON output gets the masked text; pydantic's own SecretStr serializer
    # fails behind a PlainValidator (pydantic 2.14), so it is replaced here.
    return str(secret) if info.mode == "json" else secret


# A credential: the file contains `${VAR}`, and the model stores the variable's value.
SecretRef = Annotated[
    EnvSecret, PlainValidator(_resolve_secret), PlainSerializer(_serialize_secret)
]
