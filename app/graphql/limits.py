"""Query limits as graphql-core validation rules: depth, aliases and estimated result size.

They run in the validation step, so an abusive document is refused before any resolver (or SQL)
runs. The rule classes are made ONCE per schema, so the tuple of validation rules is the same object
set on every request and Strawberry's ValidationCache (keyed on schema, document and rules) keeps
hitting; an extension built per request with a fresh rule class would make it miss every time, and
every request would validate its whole document again. Fragments are measured once each (memoised),
so a document that spreads fragments many times is counted with every spread multiplied in, without
the counting itself blowing up.
The token limit is graphql-core's parser option ``max_tokens`` (Strawberry's MaxTokensLimiter), which
is part of ParserCache's key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    get_nullable_type,
)

# Entries of each per-document cache (parsed documents, validation verdicts, argument checks):
# clients send a few hundred distinct queries at most.
CACHE_SIZE = 256


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    # Estimated number of result values: list fields multiply by their page size.
    max_cost: int = 100_000
    # A page size given as a variable is unknown at validation time (the cache stores one verdict per
    # document): assume the largest page.
    max_page: int = 500
    # Lists without a page argument (areas, year plans, members, themes) are short.
    short_list: int = 10


@dataclass(frozen=True)
class _Measure:
    depth: int
    aliases: int
    cost: int


class _Walker:
    """Measures one document: depth of fields, aliases and the estimated result size."""

    def __init__(self, context: ValidationContext, limits: Limits) -> None:
        self.context = context
        self.limits = limits
        self.fragments = {
            d.name.value: d for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[tuple[str, str], _Measure] = {}
        self.visiting: set[str] = set()

    def operation(self, node: OperationDefinitionNode) -> _Measure:
        schema = self.context.schema
        root = {
            OperationType.QUERY: schema.query_type,
            OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type,
        }[node.operation]
        return self.selections(node.selection_set, root)

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> _Measure:
        depth = aliases = cost = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                measure = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.context.schema.get_type(condition.name.value) if condition else parent
                measure = self.selections(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                measure = self.spread(selection.name.value)
            else:  # pragma: no cover - graphql-core has no other selection kinds
                continue
            depth = max(depth, measure.depth)
            aliases += measure.aliases
            cost += measure.cost
        return _Measure(depth, aliases, cost)

    def spread(self, name: str) -> _Measure:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.visiting:  # unknown or cyclic: other rules report it
            return _Measure(0, 0, 0)
        key = (name, "")
        if key not in self.memo:
            self.visiting.add(name)
            target = self.context.schema.get_type(fragment.type_condition.name.value)
            self.memo[key] = self.selections(fragment.selection_set, target)
            self.visiting.discard(name)
        return self.memo[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Measure:
        alias = 1 if node.alias else 0
        name = node.name.value
        if name.startswith("__"):  # introspection: refused in production by its own rule
            inner = self.selections(node.selection_set, None)
            return _Measure(0, alias + inner.aliases, 1)
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        field_type = get_nullable_type(definition.type) if definition else None
        child = get_named_type(field_type) if field_type is not None else None
        inner = self.selections(node.selection_set, child)
        factor = self.page_size(node, definition) if isinstance(field_type, GraphQLList) else 1
        return _Measure(1 + inner.depth, alias + inner.aliases, 1 + factor * inner.cost)

    def page_size(self, node: FieldNode, definition: Any) -> int:
        if definition is None or "first" not in definition.args:
            return self.limits.short_list
        for argument in node.arguments or ():
            if argument.name.value == "first":
                if isinstance(argument.value, IntValueNode):
                    return max(1, min(int(argument.value.value), self.limits.max_page))
                return self.limits.max_page
        default = definition.args["first"].default_value
        return default if isinstance(default, int) else self.limits.max_page


def limit_rule(limits: Limits) -> type[ValidationRule]:
    """One validation rule class for these limits (make it once per schema, see the module doc)."""

    class QueryLimits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            measure = _Walker(self.context, limits).operation(node)
            checks: list[tuple[int, int, Callable[[int, int], str]]] = [
                (
                    measure.depth,
                    limits.max_depth,
                    "The query is nested {} levels deep; the limit is {}.".format,
                ),
                (measure.aliases, limits.max_aliases, "The query uses {} aliases; the limit is {}.".format),
                (measure.cost, limits.max_cost, "The query may return {} values; the limit is {}.".format),
            ]
            for found, limit, message in checks:
                if found > limit:
                    self.report_error(GraphQLError(message(found, limit), node, extensions={"code": "LIMIT"}))

    return QueryLimits
