"""The connector's GraphQL documents against the real 2025-01 schema, and the simulator's subset."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoDeprecatedCustomRule

from connectors.shopify import queries
from simulators.shopify.cost import CostCalculator
from simulators.shopify.shop import load_schema

RULES = [*specified_rules, NoDeprecatedCustomRule]


@pytest.fixture(scope="module")
def real_schema(shared_dir: Path) -> GraphQLSchema:
    path = shared_dir / "reference" / "shopify" / "admin_schema_2025-01.json.gz"
    introspection = json.loads(gzip.decompress(path.read_bytes()))
    schema = build_client_schema(introspection.get("data", introspection))
    # Shopify deprecates some fields that implement non-deprecated interface
    # fields, which graphql-core's own schema check rejects; skip that check.
    schema._validation_errors = []
    return schema


@pytest.mark.parametrize("name", sorted(queries.DOCUMENTS))
def test_document_valid_not_deprecated(real_schema: GraphQLSchema, name: str) -> None:
    errors = validate(real_schema, parse(queries.DOCUMENTS[name]), RULES)

    assert errors == []


def test_deprecated_field_detected(real_schema: GraphQLSchema) -> None:
    document = parse('query { product(id: "gid://shopify/Product/1") { featuredImage { url } } }')

    errors = validate(real_schema, document, RULES)

    assert any("featuredImage" in e.message and "deprecated" in e.message for e in errors)


@pytest.mark.parametrize("name", sorted(queries.DOCUMENTS))
def test_document_valid_on_simulator(name: str) -> None:
    errors = validate(load_schema(), parse(queries.DOCUMENTS[name]))

    assert errors == []


def test_products_page_fits_query_limit() -> None:
    schema = load_schema()
    document = parse(queries.PRODUCTS_PAGE)
    operation = document.definitions[0]
    fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
    variables = {
        "first": queries.PAGE_SIZE,
        "mediaFirst": queries.MEDIA_PER_PAGE_PRODUCT,
        "variantsFirst": queries.VARIANTS_PER_PAGE_PRODUCT,
    }

    cost = CostCalculator(schema, fragments, variables).operation(operation)  # type: ignore[arg-type]

    assert cost <= queries.MAX_QUERY_COST
    assert cost > queries.MAX_QUERY_COST - queries.PRODUCT_COST


def type_signature(graphql_type: object) -> str:
    return str(graphql_type)


def test_simulator_schema_is_real_subset(real_schema: GraphQLSchema) -> None:
    ours = load_schema()
    problems: list[str] = []
    for name, our_type in ours.type_map.items():
        if name.startswith("__"):
            continue
        real_type = real_schema.get_type(name)
        if real_type is None:
            problems.append(f"type {name} missing")
            continue
        if type(real_type) is not type(our_type):
            problems.append(f"type {name} is a {type(real_type).__name__}")
            continue
        if isinstance(our_type, GraphQLEnumType):
            problems += [
                f"{name}.{v} missing" for v in our_type.values if v not in real_type.values
            ]  # type: ignore[attr-defined]
        elif isinstance(our_type, GraphQLUnionType):
            real_members = {t.name for t in real_type.types}  # type: ignore[attr-defined]
            problems += [
                f"{name} member {t.name}" for t in our_type.types if t.name not in real_members
            ]
        elif isinstance(
            our_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            problems += compare_fields(name, our_type, real_type)

    assert problems == []


def compare_fields(name: str, ours: object, real: object) -> list[str]:
    problems = []
    for field_name, field in ours.fields.items():  # type: ignore[attr-defined]
        real_field = real.fields.get(field_name)  # type: ignore[attr-defined]
        if real_field is None:
            problems.append(f"{name}.{field_name} missing")
            continue
        if str(field.type) != str(real_field.type):
            problems.append(f"{name}.{field_name}: {field.type} != {real_field.type}")
        for argument, definition in getattr(field, "args", {}).items():
            real_argument = real_field.args.get(argument)
            if real_argument is None or str(real_argument.type) != str(definition.type):
                problems.append(f"{name}.{field_name}({argument}) differs")
    if isinstance(ours, GraphQLObjectType):
        real_interfaces = {i.name for i in real.interfaces}  # type: ignore[attr-defined]
        problems += [
            f"{name} implements {i.name}" for i in ours.interfaces if i.name not in real_interfaces
        ]
    return problems
