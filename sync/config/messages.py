"""Translation of pydantic validation errors into config problems a merchant can act on.

pydantic reports locations as tuples and uses its own wording. This module
turns them into TOML key paths and into messages that show the value given
and the values allowed. For a near-miss it adds the key or value that was
probably meant.
Values of secret keys are never shown.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sync.config.fields import show
from sync.config.problems import ConfigProblem
from sync.config.secrets import SECRET_KEYS

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_QUOTED = re.compile(r"'([^']*)'")

# Arrays of tables, by key, with the header that starts one entry.
_ARRAY_TABLES = {"stores": "[[stores]]", "outputs": "[[stores.outputs]]"}

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def problems_from_validation(error: ValidationError, root: type[BaseModel]) -> list[ConfigProblem]:
    """Return one problem per error in ``error``, raised while validating ``root``."""
    problems: list[ConfigProblem] = []
    for details in error.errors(include_url=False):
        problems.extend(_problems_from_details(details, root))

    return problems


def _problems_from_details(details: ErrorDetails, root: type[BaseModel]) -> list[ConfigProblem]:
    loc = tuple(details["loc"])
    ctx = details.get("ctx") or {}
    if details["type"] == "config_problems":
        return [
            ConfigProblem(key_path(root, loc + tuple(sub_loc)), message)
            for sub_loc, message in ctx["problems"]
        ]

    if details["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return [_platform_problem(details, root, loc)]

    return [ConfigProblem(key_path(root, loc), _message(details, root, loc))]


def _message(details: ErrorDetails, root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind = details["type"]
    ctx = details.get("ctx") or {}
    given = _given(loc, details.get("input"))
    if kind == "config_invalid":
        return str(ctx["message"])

    if kind == "extra_forbidden":
        return _unknown_key_message(root, loc)

    if kind == "missing":
        noun = "table" if _is_table(_annotation_at(root, loc)) else "key"
        return f"required {noun} is missing"

    if kind in ("literal_error", "enum"):
        return _choice_message(given, details.get("input"), str(ctx.get("expected", "")))

    if kind == "list_type" and loc and loc[-1] in _ARRAY_TABLES:
        header = _ARRAY_TABLES[loc[-1]]
        return f"expected an array of tables, got {given}; write each entry as {header}"

    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, got {given}"

    reason = details["msg"].replace("Input should be", "must be")
    return f"invalid value {given}: {reason[:1].lower()}{reason[1:]}"


def _given(loc: tuple[Any, ...], value: object) -> str:
    is_secret = bool(loc) and (loc[-1] in SECRET_KEYS or loc[-2:] == ("database", "url"))
    return "(hidden)" if is_secret else show(value)


def _choice_message(given: str, value: object, expected: str) -> str:
    allowed = _QUOTED.findall(expected)
    message = f"invalid value {given}; allowed values: " + ", ".join(repr(v) for v in allowed)
    # A higher cutoff than difflib's 0.6 keeps short values ('5:4' and '3:4') from matching.
    matches = difflib.get_close_matches(value, allowed, n=1, cutoff=0.75)
    close = matches if isinstance(value, str) else []
    return message + (f"; did you mean {close[0]!r}?" if close else "")


def _platform_problem(
    details: ErrorDetails, root: type[BaseModel], loc: tuple[Any, ...]
) -> ConfigProblem:
    ctx = details.get("ctx") or {}
    path = key_path(root, loc + ("platform",))
    if details["type"] == "union_tag_not_found":
        tags = ", ".join(repr(tag) for tag in _union_tags(_annotation_at(root, loc)))
        return ConfigProblem(path, f"required key is missing; allowed values: {tags}")

    tag = ctx.get("tag")
    return ConfigProblem(path, _choice_message(show(tag), tag, str(ctx.get("expected_tags", ""))))


def _unknown_key_message(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    parent = _annotation_at(root, loc[:-1])
    allowed = sorted(parent.model_fields) if _is_table(parent) else []
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"{message}; did you mean {close[0]!r}?"

    return f"{message}; allowed keys: {', '.join(allowed)}" if allowed else message


def key_path(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """Render a pydantic location as a TOML key path such as `stores[1].outputs[0].scene`."""
    path = ""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        member = _union_member(annotation, part)
        if member is not None:
            annotation = member
            continue

        path += _path_part(part, path)
        annotation = _child(annotation, part)

    return path


def _path_part(part: object, path: str) -> str:
    if isinstance(part, int):
        return f"[{part}]"

    text = str(part)
    if not _BARE_KEY.fullmatch(text):
        text = json.dumps(text, ensure_ascii=False)

    return f".{text}" if path else text


def _annotation_at(root: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        member = _union_member(annotation, part)
        annotation = member if member is not None else _child(annotation, part)

    return _unwrap(annotation)


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional so the remaining type can be walked."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _union_member(annotation: Any, tag: object) -> Any:
    """Return the member of a tagged union that ``tag`` (a `platform` value) selects."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return None

    for member in get_args(annotation):
        field = getattr(member, "model_fields", {}).get("platform")
        annotation = field.annotation if field is not None else None
        if get_origin(annotation) is Literal and tag in get_args(annotation):
            return member

    return None


def _union_tags(annotation: Any) -> list[str]:
    tags: list[str] = []
    for member in get_args(annotation):
        field = getattr(member, "model_fields", {}).get("platform")
        if field is not None:
            tags.extend(get_args(field.annotation))

    return tags


def _child(annotation: Any, part: object) -> Any:
    if _is_table(annotation):
        field = annotation.model_fields.get(part)
        return field.annotation if field is not None else None

    args = get_args(annotation)
    if get_origin(annotation) is list and isinstance(part, int) and args:
        return args[0]

    if get_origin(annotation) is dict and len(args) == 2:
        return args[1]

    return None


def _is_table(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
