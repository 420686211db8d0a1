"""Prompt and alt-text templates: str.format fields checked at load time.

A template may use only the fields the engine fills in, so a typo such as
`{titel}` is a config error instead of a failed render on the first product.
Format specs are allowed (`{title:.60}` cuts the title to 60 characters);
attribute and index access (`{title.upper}`, `{tags[0]}`) and positional
fields (`{}`) are not.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator

from connectors.base import CatalogueItem
from sync.config.fields import invalid, show

PRODUCT_FIELDS = frozenset({"title", "product_type", "category", "tags", "vendor"})
ALT_TEXT_FIELDS = PRODUCT_FIELDS | {"scene", "output"}

_FORMATTER = string.Formatter()


def template_problem(template: str, allowed: frozenset[str]) -> str | None:
    """Return what is wrong with ``template`` when it uses fields outside ``allowed``, else None."""
    try:
        fields = [name for _, name, _, _ in _FORMATTER.parse(template) if name is not None]
    except ValueError as error:
        return f"invalid template {show(template)}: {error}; write {{{{ or }}}} for a literal brace"

    for name in fields:
        problem = _field_problem(name, template, allowed)
        if problem:
            return problem

    return _render_problem(template, allowed)


def _field_problem(name: str, template: str, allowed: frozenset[str]) -> str | None:
    allowed_list = ", ".join("{" + field + "}" for field in sorted(allowed))
    if name == "" or name.isdigit():
        return f"invalid template {show(template)}: name each field; allowed fields: {allowed_list}"

    if "." in name or "[" in name:
        return (
            f"invalid template {show(template)}: field {{{name}}} uses attribute or index "
            f"access, which is not supported; allowed fields: {allowed_list}"
        )

    if name in allowed:
        return None

    message = (
        f"unknown field {{{name}}} in template {show(template)}; allowed fields: {allowed_list}"
    )
    close = difflib.get_close_matches(name, sorted(allowed), n=1)
    return message + (f"; did you mean {{{close[0]}}}?" if close else "")


def _render_problem(template: str, allowed: frozenset[str]) -> str | None:
    # A trial render catches bad format specs such as `{title:d}`.
    try:
        render_template(template, dict.fromkeys(allowed, "x"))
    except (ValueError, KeyError, IndexError) as error:
        return f"invalid template {show(template)}: {error}"

    return None


def render_template(template: str, fields: Mapping[str, object]) -> str:
    """Fill ``template`` with ``fields``; a field without a value renders as ''."""
    values = {name: "" if value is None else str(value) for name, value in fields.items()}
    return template.format_map(_Blank(values))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def product_fields(item: CatalogueItem, vendor: str | None = None) -> dict[str, str]:
    """Return the template fields of a catalogue item: tags comma-separated, category as a path."""
    return {
        "title": item.title,
        "product_type": item.product_type or "",
        "category": item.category_path,
        "tags": ", ".join(item.tags),
        "vendor": vendor or "",
    }


def _check_prompt(template: str) -> str:
    problem = template_problem(template, PRODUCT_FIELDS)
    if problem:
        raise invalid(problem)

    return template


def _check_alt_text(template: str) -> str:
    problem = template_problem(template, ALT_TEXT_FIELDS)
    if problem:
        raise invalid(problem)

    return template


PromptTemplate = Annotated[str, AfterValidator(_check_prompt)]
AltTextTemplate = Annotated[str, AfterValidator(_check_alt_text)]
