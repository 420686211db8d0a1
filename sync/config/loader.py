"""Finding, reading and validating the config file.

The file is chosen by `--config`, then the PERGAI_SYNC_CONFIG environment
variable, then `./pergai-sync.toml`. Every problem in it is reported at once
as a ``ConfigFileError``; secrets are resolved from the environment passed in.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sync.config.messages import key_path, problems_from_validation
from sync.config.outputs import output_key
from sync.config.problems import ConfigFileError, ConfigProblem
from sync.config.settings import Settings, duplicate_store_problems
from sync.config.stores import duplicate_output_problems

logger = logging.getLogger(__name__)

DEFAULT_CONFIG_FILE = "pergai-sync.toml"
CONFIG_PATH_ENV = "PERGAI_SYNC_CONFIG"

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def resolve_config_path(cli_value: str | None, env: Mapping[str, str] | None = None) -> Path:
    """Return the config file to use: `--config`, else $PERGAI_SYNC_CONFIG, else the default.

    The default is `pergai-sync.toml` in the working directory.
    """
    environment = os.environ if env is None else env
    chosen = cli_value or environment.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_FILE
    return Path(chosen).expanduser()


def load_config(path: Path | str, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the config file at ``path``, resolving `${VAR}` secrets from ``env``.

    ``env`` defaults to the process environment. Raises ``ConfigFileError``
    (a ``ConfigError``) listing every problem found.
    """
    file = Path(path)
    text = _read_text(file)
    settings = parse_config(text, file, env)
    logger.info(
        "Loaded config %s with %d store(s)",
        file,
        len(settings.stores),
        extra={"action": "config_loaded"},
    )
    return settings


def parse_config(text: str, path: Path | str, env: Mapping[str, str] | None = None) -> Settings:
    """Validate config ``text``; ``path`` names it in messages and anchors relative paths."""
    file = Path(path)
    data = _parse_toml(text, file)
    context = {
        "env": os.environ if env is None else env,
        "config_dir": file.expanduser().resolve().parent,
    }

    problems: list[ConfigProblem] = []
    try:
        settings = Settings.model_validate(data, context=context)
    except ValidationError as error:
        problems = problems_from_validation(error, Settings)

    # Raised outside the except block so the pydantic error, which repeats
    # raw input values, is not chained onto this one.
    if problems:
        raise ConfigFileError(file, _with_duplicates(problems, data))

    settings._path = file
    return settings


def _read_text(file: Path) -> str:
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ConfigFileError(
            file,
            [
                ConfigProblem(
                    "",
                    "config file not found; create one with `pergai-sync init`, or choose "
                    f"another file with --config or {CONFIG_PATH_ENV}",
                )
            ],
        ) from None
    except OSError as error:
        raise ConfigFileError(
            file, [ConfigProblem("", f"cannot read the config file: {error.strerror}")]
        ) from None

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"the config file is not UTF-8 text (invalid byte at offset {error.start})"
        raise ConfigFileError(file, [ConfigProblem("", message)]) from None


def _parse_toml(text: str, file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigFileError(file, [_toml_problem(str(error))]) from None


def _toml_problem(message: str) -> ConfigProblem:
    # Python 3.11's TOMLDecodeError has the position only in its message.
    match = _TOML_POSITION.search(message)
    if match is None:
        return ConfigProblem("", f"invalid TOML: {message}")

    reason = message[: match.start()]
    return ConfigProblem(
        "", f"invalid TOML: {reason}", line=int(match.group(1)), column=int(match.group(2))
    )


def _with_duplicates(problems: list[ConfigProblem], data: dict[str, Any]) -> list[ConfigProblem]:
    """Add the duplicate names and output keys that validation skipped.

    pydantic runs the cross-field checks of a table only once its keys are
    valid, so a file with other errors would otherwise hide its duplicates.
    """
    seen = set(problems)
    extra = [
        ConfigProblem(key_path(Settings, loc), message) for loc, message in _raw_duplicates(data)
    ]
    return problems + [problem for problem in extra if problem not in seen]


def _raw_duplicates(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    stores = data.get("stores")
    if not isinstance(stores, list):
        return []

    tables = [store for store in stores if isinstance(store, dict)]
    if len(tables) != len(stores):
        return []

    names = [store.get("name") for store in tables]
    found = duplicate_store_problems([_comparable(name) for name in names])
    for index, store in enumerate(tables):
        keys = _raw_output_keys(store.get("outputs"))
        for loc, message in duplicate_output_problems(keys):
            found.append((("stores", index, *loc), message))

    return found


def _comparable(value: object) -> object:
    # Values that are not valid keys never count as duplicates of each other.
    return value if isinstance(value, str) else object()


def _raw_output_keys(outputs: object) -> list[object]:
    if not isinstance(outputs, list):
        return []

    keys: list[object] = []
    for table in outputs:
        scene = table.get("scene") if isinstance(table, dict) else None
        tool = table.get("tool") if isinstance(table, dict) else None
        if isinstance(table, dict) and isinstance(scene, str) != isinstance(tool, str):
            keys.append(
                output_key(
                    scene,
                    tool,
                    aspect_ratio=table.get("aspect_ratio"),
                    scale=table.get("scale"),
                    ratio=table.get("ratio"),
                )
            )
        else:
            keys.append(object())

    return keys
