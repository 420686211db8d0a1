"""The subset of Shopify's search syntax that the simulator understands for ``products(query:)``.

Terms are ``field:value`` with an optional comparator (``:>``, ``:>=``, ``:<``,
``:<=``), values may be quoted with ' or ", several values may be joined with
commas (``status:active,draft``), and terms combine with AND, OR, NOT, a leading
``-`` and parentheses; adjacent terms mean AND. Fields: updated_at, created_at,
status, title, product_type, vendor, tag, id. Like Shopify, a filter on an unknown
field is ignored rather than rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from simulators.shopify.state import SimProduct

Predicate = Callable[[SimProduct], bool]

TOKEN = re.compile(
    r"""\s*(?:(?P<open>\()|(?P<close>\))|(?P<term>-?[\w.]+:(?:[<>]=?)?(?:'[^']*'|"[^"]*"|[^\s()]+))|(?P<word>[^\s()]+))"""
)


class SearchSyntaxError(ValueError):
    """The search query cannot be parsed."""


def parse_search(text: str | None) -> Predicate:
    """Compile ``text`` into a predicate over products (everything matches when empty)."""
    tokens = tokenize(text or "")
    if not tokens:
        return lambda product: True
    parser = _Parser(tokens)
    predicate = parser.expression()
    if parser.position != len(tokens):
        raise SearchSyntaxError(f"unexpected {tokens[parser.position]!r} in search query")
    return predicate


def tokenize(text: str) -> list[str]:
    tokens = []
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        tokens.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == "OR":
            self.position += 1
            right = self.conjunction()
            left = _either(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.unary()
        while self.peek() not in (None, "OR", ")"):
            if self.peek() == "AND":
                self.position += 1
            right = self.unary()
            left = _both(left, right)
        return left

    def unary(self) -> Predicate:
        token = self.peek()
        if token is None:
            raise SearchSyntaxError("search query ends too early")
        self.position += 1
        if token == "NOT":
            inner = self.unary()
            return lambda product: not inner(product)
        if token == "(":
            inner = self.expression()
            if self.peek() != ")":
                raise SearchSyntaxError("missing ) in search query")
            self.position += 1
            return inner
        if token.startswith("-") and ":" in token:
            inner = term(token[1:])
            return lambda product: not inner(product)
        if ":" in token:
            return term(token)
        word = token.lower()
        return lambda product: word in product.title.lower()


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda product: left(product) or right(product)


def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda product: left(product) and right(product)


def term(token: str) -> Predicate:
    name, _, rest = token.partition(":")
    comparator = ""
    for candidate in (">=", "<=", ">", "<"):
        if rest.startswith(candidate):
            comparator, rest = candidate, rest[len(candidate) :]
            break
    value = rest.strip("'\"")
    name = name.lower()

    if name in ("updated_at", "created_at"):
        moment = parse_time(value)
        attribute = "updated_at" if name == "updated_at" else "created_at"
        return lambda product: compare(getattr(product, attribute), comparator, moment)
    if name == "id":
        number = int(value.rsplit("/", 1)[-1])
        return lambda product: compare(product.id, comparator, number)
    if name == "status":
        wanted = {part.strip().upper() for part in value.split(",")}
        return lambda product: product.status in wanted
    if name == "tag":
        tag = value.lower()
        return lambda product: tag in (t.lower() for t in product.tags)
    if name in ("title", "product_type", "vendor"):
        field_value = value.lower()
        return lambda product: field_value in str(getattr(product, name)).lower()
    return lambda product: True


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise SearchSyntaxError(f"invalid date {value!r} in search query") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def compare(actual: object, comparator: str, expected: object) -> bool:
    if comparator == ">=":
        return bool(actual >= expected)  # type: ignore[operator]
    if comparator == "<=":
        return bool(actual <= expected)  # type: ignore[operator]
    if comparator == ">":
        return bool(actual > expected)  # type: ignore[operator]
    if comparator == "<":
        return bool(actual < expected)  # type: ignore[operator]
    return actual == expected
