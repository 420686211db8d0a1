"""Query cost and the leaky bucket, following Shopify's published cost rules.

Requested cost, computed before running the query: a scalar or enum field is
0 points, an object field 1, a connection 2 plus ``first`` (or ``last``) times
the cost of one of its nodes, and a mutation field 10. Fields of inline
fragments on different types are added together, where Shopify takes the
maximum over the possible types, so the estimate errs on the high side.
Actual cost, charged after the query ran, counts what came back: one point per
object and two per connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLUnionType

CONNECTION_COST = 2
MUTATION_COST = 10


class MissingPageSize(GraphQLError):
    """A connection was requested without ``first`` or ``last``."""


class CostCalculator:
    """Compute the requested cost of one operation of a document."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = (
            self.schema.mutation_type
            if operation.operation.value == "mutation"
            else self.schema.query_type
        )
        assert root is not None
        mutation = operation.operation.value == "mutation"
        total = 0
        for field_node, field_def in self.fields(operation.selection_set, root):
            if mutation:
                total += MUTATION_COST + self.selection(field_node.selection_set, field_def)
            else:
                total += self.field(field_node, field_def)
        return total

    def field(self, node: FieldNode, definition: GraphQLField) -> int:
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        if named.name.endswith("Connection"):
            size = self.page_size(node)
            return CONNECTION_COST + size * self.connection_node_cost(node, named)
        return 1 + self.selection(node.selection_set, definition)

    def connection_node_cost(self, node: FieldNode, connection: Any) -> int:
        """Cost of one node: the fields read on ``nodes`` or ``edges { node }``."""
        cost = 0
        for child, child_def in self.fields(node.selection_set, connection):
            if child.name.value == "nodes":
                cost = max(cost, 1 + self.selection(child.selection_set, child_def))
            elif child.name.value == "edges":
                edge_type = get_named_type(child_def.type)
                for grandchild, grandchild_def in self.fields(child.selection_set, edge_type):
                    if grandchild.name.value == "node":
                        cost = max(
                            cost, 1 + self.selection(grandchild.selection_set, grandchild_def)
                        )
        return cost

    def page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value in ("first", "last"):
                value = value_from_ast_untyped(argument.value, dict(self.variables))
                if isinstance(value, int):
                    return value
        raise MissingPageSize(
            "you must provide one of first or last",
            nodes=[node],
            extensions={"code": "BAD_REQUEST"},
        )

    def selection(self, selection_set: SelectionSetNode | None, definition: GraphQLField) -> int:
        if selection_set is None:
            return 0
        parent = get_named_type(definition.type)
        return sum(
            self.field(child, child_def) for child, child_def in self.fields(selection_set, parent)
        )

    def fields(
        self, selection_set: SelectionSetNode | None, parent: Any
    ) -> list[tuple[FieldNode, GraphQLField]]:
        """Flatten fields, inline fragments and fragment spreads under ``parent``."""
        found: list[tuple[FieldNode, GraphQLField]] = []
        if selection_set is None:
            return found
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = field_definition(parent, selection.name.value)
                if definition is not None:
                    found.append((selection, definition))
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value)
                found.extend(self.fields(selection.selection_set, target))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    found.extend(self.fields(fragment.selection_set, target))
        return found


def field_definition(parent: Any, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    if isinstance(parent, GraphQLUnionType):
        return None
    return None


def actual_cost(data: Any) -> int:
    """Count what a result holds: one point per object, two per connection."""
    if isinstance(data, list):
        return sum(actual_cost(item) for item in data)
    if not isinstance(data, dict):
        return 0
    own = CONNECTION_COST if ("nodes" in data or "edges" in data) else 1
    return own + sum(actual_cost(value) for value in data.values())


class LeakyBucket:
    """Points available to the app, refilled at ``restore_rate`` per second up to ``maximum``."""

    def __init__(
        self, maximum: float, restore_rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.clock = clock
        self.level = maximum
        self.stamp = clock()

    def available(self) -> float:
        now = self.clock()
        self.level = min(self.maximum, self.level + (now - self.stamp) * self.restore_rate)
        self.stamp = now
        return self.level

    def take(self, cost: float) -> bool:
        """Charge ``cost`` when the bucket holds that much; return whether it did."""
        if self.available() < cost:
            return False
        self.level -= cost
        return True

    def refund(self, points: float) -> None:
        self.available()
        self.level = min(self.maximum, self.level + max(0.0, points))

    def status(self) -> dict[str, float | int]:
        # Shopify sends currentlyAvailable as an integer and the others as floats.
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": int(self.available()),
            "restoreRate": float(self.restore_rate),
        }
