"""The compiled read path: a query whose every root field has a SQL mapping is answered by one
statement per root field, in which PostgreSQL builds the JSON (``app.domain.initiatives.json_reads``).

After validation and the argument rules (``ArgumentRules`` leaves a refusal in the result, and then
nothing runs), ``CompiledReads.on_execute`` looks at the operation with graphql-core's public API:
the operation (``get_operation_ast``), its variables coerced (``get_variable_values``), the fields
collected with fragments, aliases and ``@skip``/``@include`` resolved, arguments coerced
(``get_argument_values``) against a copy of the served schema built from its SDL. When every root
field maps (``neighbourhood(code)`` and ``initiatives(filter, first)`` with the dashboard's fields:
initiative columns, themes, grant, network, buurt), their JSON is the result and graphql-core never
runs; otherwise the whole operation takes the resolver path, unchanged. Setting the result in
``on_execute`` is Strawberry's documented way for an extension to answer instead of the executor.

The viewer's visibility is the loaders' own select (one definition); what the compiled path cannot
write exactly as the resolvers do (cursors, private fields, figures under disclosure control, an
invalid network id) is simply not mapped. ``tests/graphql/test_compiled.py`` holds both paths to
the same answers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    get_named_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from app.domain.initiatives import json_reads
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.json_reads import INITIATIVE_FIELDS, OBJECT_FIELDS, Selected, Shape
from app.domain.initiatives.schemas import InitiativeFilter, InitiativeStatus
from app.domain.initiatives.service import MAX_PAGE


class NotCompiled(Exception):
    """Something in the operation has no mapping: the resolvers answer it."""


@lru_cache(maxsize=8)
def mirror_of(schema: strawberry.Schema) -> GraphQLSchema:
    """The served schema as graphql-core types, built from its SDL (public API) once per schema."""
    return build_schema(schema.as_str())


class CompiledReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.result is None and context.graphql_document is not None:
            mirror = mirror_of(context.schema)
            try:
                plan = Plan.of(mirror, context.graphql_document, context.operation_name, context.variables)
                data = await plan.run(context.context)
            except NotCompiled:
                pass  # the resolvers answer
            else:
                context.result = ExecutionResult(data=data, errors=None)
        yield


class Plan:
    """The statements of an operation's root fields, by response key."""

    def __init__(self, roots: list[tuple[str, str, dict[str, Any], Shape]]) -> None:
        self.roots = roots

    @classmethod
    def of(
        cls, mirror: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: Any
    ) -> Plan:
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation != OperationType.QUERY or mirror.query_type is None:
            raise NotCompiled
        coerced = get_variable_values(mirror, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            raise NotCompiled  # the resolver path words the errors
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        walker = _Walker(fragments, coerced)
        query = mirror.query_type
        roots = []
        for key, nodes in walker.collect(query, [operation.selection_set]).items():
            name = nodes[0].name.value
            if name not in ROOTS:
                raise NotCompiled
            arguments = get_argument_values(query.fields[name], nodes[0], coerced)
            roots.append((key, name, arguments, walker.shape(query.fields[name].type, nodes)))
        return cls(roots)

    async def run(self, context: Any) -> dict[str, Any]:
        viewer = await context.viewer()
        # Every statement first: an argument without a mapping (NotCompiled) leaves before any read.
        statements = [
            (key, statement_for(viewer, name, arguments, shape)) for key, name, arguments, shape in self.roots
        ]
        data: dict[str, Any] = {}
        async with context.reads.session() as session:
            for key, statement in statements:
                data[key] = await json_reads.read_json(session, statement)
        return data


# Built statements by what they depend on: building one costs several milliseconds of SQLAlchemy,
# and a statement object used again keeps its memoised cache key (its SQL is compiled once).
_STATEMENTS: OrderedDict[str, Any] = OrderedDict()
STATEMENTS_MAX = 256


def statement_for(viewer: Viewer, name: str, arguments: dict[str, Any], shape: Shape) -> Any:
    key = repr((sorted(viewer.private_networks), name, arguments, shape))
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = ROOTS[name](viewer, arguments, shape)
        while len(_STATEMENTS) > STATEMENTS_MAX:
            _STATEMENTS.popitem(last=False)
    else:
        _STATEMENTS.move_to_end(key)
    return statement


def _first(arguments: dict[str, Any]) -> int:
    first = arguments["first"]
    if not 1 <= first <= MAX_PAGE:
        raise NotCompiled  # the services clamp; not worth a mapping
    return int(first)


def _statuses(names: list[str] | None) -> tuple[InitiativeStatus, ...]:
    return tuple(InitiativeStatus(n.lower()) for n in names or ())


def _initiatives(viewer: Viewer, arguments: dict[str, Any], shape: Shape) -> Any:
    if arguments.get("after") is not None:
        raise NotCompiled
    given = arguments.get("filter") or {}
    network_id = None
    if given.get("networkId") is not None:
        network_id = json_reads.parse_uuid(given["networkId"])
        if network_id is None:
            raise NotCompiled
    flt = InitiativeFilter(
        neighbourhood=given.get("neighbourhood"),
        network_id=network_id,
        statuses=_statuses(given.get("status")),
        theme=given.get("theme"),
        municipality=given.get("municipality"),
    )
    return json_reads.initiatives_list(viewer, flt, _first(arguments), shape)


def _neighbourhood(viewer: Viewer, arguments: dict[str, Any], shape: Shape) -> Any:
    return json_reads.neighbourhood(viewer, arguments["code"], shape)


ROOTS = {"initiatives": _initiatives, "neighbourhood": _neighbourhood}

# The fields each mapped type answers in SQL; anything else sends the operation to the resolvers.
FIELDS: dict[str, frozenset[str]] = {
    "Initiative": INITIATIVE_FIELDS,
    "Theme": OBJECT_FIELDS["themes"],
    "Grant": OBJECT_FIELDS["grant"],
    "Network": OBJECT_FIELDS["network"],
    "Neighbourhood": OBJECT_FIELDS["neighbourhood"] | {"initiatives"},
    "InitiativeConnection": frozenset({"__typename", "nodes", "pageInfo"}),
    "PageInfo": frozenset({"__typename", "hasNextPage"}),
}


class _Walker:
    """Collects fields as graphql-core does (fragments, aliases, @skip/@include) into shapes."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: VariableValues) -> None:
        self.fragments = fragments
        self.variables = variables

    def collect(
        self, parent: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        found: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(parent, selection_set, found)
        return found

    def _collect(
        self, parent: GraphQLObjectType, selection_set: SelectionSetNode, found: dict[str, list[FieldNode]]
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                found.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                self._applies(parent, selection.type_condition)
                self._collect(parent, selection.selection_set, found)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                self._applies(parent, fragment.type_condition)
                self._collect(parent, fragment.selection_set, found)

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip["if"]:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return include is None or bool(include["if"])

    @staticmethod
    def _applies(parent: GraphQLObjectType, condition: Any) -> None:
        if condition is not None and condition.name.value != parent.name:
            raise NotCompiled  # an interface or union condition: left to graphql-core

    def shape(self, field_type: Any, nodes: list[FieldNode], allowed: frozenset[str] | None = None) -> Shape:
        parent = get_named_type(field_type)
        if not isinstance(parent, GraphQLObjectType) or parent.name not in FIELDS:
            raise NotCompiled
        allowed = allowed or FIELDS[parent.name]
        shape = []
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        for key, found in self.collect(parent, sets).items():
            name = found[0].name.value
            if name not in allowed:
                raise NotCompiled
            if name == "__typename":
                shape.append(Selected(key, name))
                continue
            definition = parent.fields[name]
            arguments = get_argument_values(definition, found[0], self.variables)
            below: Shape = ()
            if found[0].selection_set is not None:
                # Below an initiative, its own objects (a buurt without its initiatives, ...).
                nested = OBJECT_FIELDS.get(name) if parent.name == "Initiative" else None
                below = self.shape(definition.type, found, nested)
            shape.append(Selected(key, name, self._arguments(parent.name, name, arguments), below))
        return tuple(shape)

    @staticmethod
    def _arguments(type_name: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if type_name == "Neighbourhood" and name == "initiatives":
            return {
                "first": _first(arguments),
                "statuses": _statuses(arguments.get("status")),
                "theme": arguments.get("theme"),
            }
        return arguments
