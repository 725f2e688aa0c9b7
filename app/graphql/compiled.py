"""The compiled read path: the root fields of a query that have a SQL mapping are answered by one
statement each, in which PostgreSQL builds the JSON (``app.domain.initiatives.json_reads``); the
others, in the same operation, by the resolvers.

After validation and the argument rules (``ArgumentRules`` leaves a refusal in the result, and then
nothing runs), ``CompiledReads.on_execute`` looks at the operation with graphql-core's public API:
the operation (``get_operation_ast``), its variables coerced (``get_variable_values``), the fields
collected with fragments, aliases and ``@skip``/``@include`` resolved, arguments coerced
(``get_argument_values``) against a copy of the served schema built from its SDL. A root field maps
when it is ``neighbourhood(code)`` or ``initiatives(filter, first)`` and every field below it has a
mapping (initiative columns, themes, grant, network, buurt). When all root fields map, their JSON is
the result and graphql-core never runs (setting the result in ``on_execute`` is Strawberry's
documented way for an extension to answer instead of the executor). When only some do, the
executor runs a document of the others only (the operation with just those root fields, in place of
``graphql_document``), and the compiled fields are put into its data at their places in the
selection order. When none does, the operation takes the resolver path unchanged. A compiled
field's value in the result is PostgreSQL's JSON text as an ``orjson.Fragment``, which the router's
encoder (orjson) writes out as it is: no parsing and encoding again of what PostgreSQL wrote.

What an operation compiles to (the ``Plan``) depends on the query text, the operation name and the
variables only, so it is kept per those (``Plans``, per schema, least recently used out): a repeated
dashboard query skips the walk over its selections, and the statements it built (per set of
networks whose private fields the caller may read; each a raw statement, ``json_reads.Prepared``,
run through ``Database.read_one``) are used again. Once an operation has passed every check and its
plan answered it whole, a repeat is answered by the plan in the view, before Strawberry's operation
and its extensions (``CompiledAnswers``): look the plan up, run one statement, write the bytes; when
the database cannot serve it, the 503 comes without trying the statement a second time.

The viewer's visibility is the loaders' own select (one definition); what the compiled path cannot
write exactly as the resolvers do (cursors, private fields, figures under disclosure control, an
invalid network id) is simply not mapped. ``tests/graphql/test_compiled.py`` holds both paths to
the same answers.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
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
from strawberry.types import ExecutionResult as ViewResult  # what the HTTP view's execute_single returns

from app.domain.initiatives import json_reads
from app.domain.initiatives.access import ANONYMOUS, Viewer
from app.domain.initiatives.json_reads import INITIATIVE_FIELDS, OBJECT_FIELDS, Selected, Shape
from app.domain.initiatives.schemas import InitiativeFilter, InitiativeStatus
from app.domain.initiatives.service import MAX_PAGE
from app.graphql.errors import MASKED_MESSAGE, database_unavailable
from app.graphql.persisted import Documents
from app.web.outage import is_database_unavailable


class NotCompiled(Exception):
    """Something in a root field has no mapping: the resolvers answer that field."""


@lru_cache(maxsize=8)
def mirror_of(schema: strawberry.Schema) -> GraphQLSchema:
    """The served schema as graphql-core types, built from its SDL (public API) once per schema."""
    return build_schema(schema.as_str())


class CompiledReads(SchemaExtension):
    def __init__(self, plans: Plans) -> None:
        self.plans = plans

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        compiled: dict[str, Any] | None = None
        plan: Plan | None = None
        document = context.graphql_document
        if context.result is None and document is not None:
            plan = self.plans.plan_of(
                mirror_of(context.schema), context.query, document, context.operation_name, context.variables
            )
        if plan is not None and document is not None:
            compiled = await plan.run(context.context)
            if plan.rest is None:
                context.result = ExecutionResult(data=compiled, errors=None)
                self.plans.checked(plan, context.query, document, context.variables)
            else:
                context.graphql_document = plan.rest  # the resolvers answer the other root fields
        yield
        if plan is not None and plan.rest is not None and compiled is not None and context.result is not None:
            # The result object itself is changed: it is the one Strawberry goes on with.
            context.result.data = plan.merged(compiled, context.result.data)


class Plans:
    """The plans of recent operations by query text, operation name and variables (per schema)."""

    # Plans hold built statements (SQLAlchemy constructs of some size): 128 plans of at most 4 sets
    # of private networks each bound them at 512 (most plans hold one: the anonymous callers').
    def __init__(self, max_entries: int = 128) -> None:
        self.max_entries = max_entries
        self._plans: OrderedDict[tuple[str, str | None, bytes], Plan | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._plans)

    def plan_of(
        self,
        mirror: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        operation_name: str | None,
        variables: Any,
    ) -> Plan | None:
        """The operation's plan, or None when no root field compiles."""
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation != OperationType.QUERY:
            # Only queries compile; a mutation's variables (names, phone numbers) are never kept.
            return None
        key = _key(query, operation_name, variables)
        if key is not None and key in self._plans:
            return self._recent(key)
        try:
            plan: Plan | None = Plan.of(mirror, document, operation_name, variables)
        except NotCompiled:
            plan = None
        if key is not None:
            self._keep(key, plan)
        return plan

    def ready(self, query: str, operation_name: str | None, variables: Any) -> Plan | None:
        """The plan of an operation answered wholly by its statements before, after every check of
        the operation passed (``Plan.checked``); None when there is none such."""
        key = _key(query, operation_name, variables)
        if key is None or key not in self._plans:
            return None
        plan = self._recent(key)
        return plan if plan is not None and plan.checked and plan.rest is None else None

    def checked(self, plan: Plan, query: str | None, document: DocumentNode, variables: Any) -> None:
        """Every check of the operation passed for this text, operation and variables, and ``plan``
        answered it whole. Its key holds the operation's name as Strawberry gives it (the document's
        one operation when the client named none): a request that names none finds it too."""
        plan.checked = True
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        key = _key(query, None, variables)
        if len(operations) == 1 and key is not None:
            self._keep(key, plan)

    def _recent(self, key: tuple[str, str | None, bytes]) -> Plan | None:
        self._plans.move_to_end(key)
        return self._plans[key]

    def _keep(self, key: tuple[str, str | None, bytes], plan: Plan | None) -> None:
        self._plans[key] = plan
        self._plans.move_to_end(key)
        while len(self._plans) > self.max_entries:
            self._plans.popitem(last=False)


class CompiledAnswers:
    """A repeated query that compiled whole, answered by its plan before Strawberry's operation.

    Which query text runs (persisted queries, and who may run what), parsing, validation with the
    limits and the argument rules all depend on the query text, the operation name, the variables
    and whether the caller is anonymous only; the first time an operation passes all of them and
    its plan answers every root field (``CompiledReads``), ``Plan.checked`` is set. A repeat then
    needs none of those steps again, nor the extensions' hooks around them: the view
    (``app.graphql._Router.execute_single``) asks here first; the text is resolved as
    ``PersistedQueries`` does (a refusal goes the whole way, to be answered there), the plan runs
    for this caller's viewer, and its data is the result. Whatever fails on the way (the database)
    goes the whole way too, which answers or words the error as for any operation.
    ``tests/graphql/test_compiled.py`` holds the answers of a first and a repeated request equal.
    """

    def __init__(self, plans: Plans, documents: Documents) -> None:
        self.plans = plans
        self.documents = documents

    async def answer(
        self,
        query: str | None,
        operation_name: str | None,
        variables: Any,
        extensions: Any,
        context: Any,
    ) -> ViewResult | None:
        """The operation's result, or None: take the whole way."""
        try:
            text = self.documents.resolve(query, extensions, context.principal is None)
        except GraphQLError:
            return None
        plan = None if text is None else self.plans.ready(text, operation_name, variables)
        if plan is None:
            return None
        try:
            return ViewResult(data=await plan.run(context), errors=None)
        except Exception as error:
            if not is_database_unavailable(error):
                return None  # the whole way runs it again, and words what failed
            # The whole way would try the statement again and wait as long once more (for the pool,
            # or a connection that does not come) before the same 503: answered as an outage is
            # answered there (one WARNING line with the operation's own name, the context marked:
            # the router answers 503).
            database_unavailable(context, plan.name, error)
            return ViewResult(data=None, errors=[GraphQLError(MASKED_MESSAGE)])


def _key(
    query: str | None, operation_name: str | None, variables: Any
) -> tuple[str, str | None, bytes] | None:
    if query is None or not isinstance(operation_name, str | None):
        # A client's JSON may send any value as operationName (neither Strawberry's parse nor ours
        # checks it): a list or an object is no dict key. Nothing is kept or found for it; the whole
        # way refuses it as naming no operation (400).
        return None
    try:
        return query, operation_name, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # values that are not JSON (a caller in process): planned anew each time
        return None


@dataclass(frozen=True)
class Root:
    """A compiled root field: its response key, field name, coerced arguments and shape."""

    key: str
    name: str
    arguments: dict[str, Any]
    shape: Shape

    def statement(self, viewer: Viewer) -> json_reads.Prepared:
        return json_reads.Prepared.of(ROOTS[self.name](viewer, self.arguments, self.shape))


class Plan:
    """The statements of an operation's compiled root fields, and the document of the others."""

    # Statements kept per set of private networks (members differ in them; anonymous callers and
    # every non-member share the empty set): the most recently used few.
    VIEWERS_MAX = 4

    def __init__(
        self,
        roots: list[Root],
        anonymous: list[json_reads.Prepared],
        rest: DocumentNode | None,
        keys: list[str],
        name: str | None,
    ) -> None:
        self.roots = roots
        self.rest = rest
        self.keys = keys
        # The operation's own name, as the document declares it (None for an unnamed one): what the
        # whole way logs as Strawberry's execution context's operation name, also when the request
        # names none (one plan serves both; ``Plans.checked``).
        self.name = name
        # Set once the operation passed every check and this plan answered it whole (CompiledAnswers).
        self.checked = False
        self._statements: OrderedDict[frozenset[uuid.UUID], list[json_reads.Prepared]] = OrderedDict(
            {ANONYMOUS.private_networks: anonymous}
        )

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
        collected = walker.collect(query, [operation.selection_set])
        roots: list[Root] = []
        # Building a statement also finds an argument without a mapping.
        anonymous: list[json_reads.Prepared] = []
        rest: list[FieldNode] = []
        for key, nodes in collected.items():
            try:
                root = _root(walker, query, key, nodes)
                statement = root.statement(ANONYMOUS)
            except NotCompiled:
                rest.extend(nodes)
            else:
                roots.append(root)
                anonymous.append(statement)
        if not roots:
            raise NotCompiled
        others = _document_of(document, operation, rest) if rest else None
        name = operation.name.value if operation.name else None
        return cls(roots, anonymous, others, list(collected), name)

    def statements(self, viewer: Viewer) -> list[json_reads.Prepared]:
        networks = viewer.private_networks
        found = self._statements.get(networks)
        if found is None:
            found = self._statements[networks] = [root.statement(viewer) for root in self.roots]
            while len(self._statements) > self.VIEWERS_MAX:
                self._statements.popitem(last=False)
        return found

    async def run(self, context: Any) -> dict[str, Any]:
        statements = self.statements(await context.viewer())
        data: dict[str, Any] = {}
        for root, statement in zip(self.roots, statements, strict=True):
            # One raw read per root field, where reads may lag (a replica when one is usable).
            text = await json_reads.json_text(context.db.read_one, statement)
            # PostgreSQL's JSON goes into the answer as it is: orjson (the router's encoder)
            # writes a Fragment's text without parsing it (~0.4 ms for a 90 kB dashboard).
            data[root.key] = None if text is None else orjson.Fragment(text)
        return data

    def merged(self, compiled: dict[str, Any], resolved: dict[str, Any] | None) -> dict[str, Any] | None:
        """Both parts in the operation's order of response keys; none when the resolvers' part
        lost its data (a non-null root field failed: the whole data is null, as on one path)."""
        if resolved is None:
            return None
        return {key: compiled[key] if key in compiled else resolved[key] for key in self.keys}


def _root(walker: _Walker, query: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> Root:
    name = nodes[0].name.value
    if name not in ROOTS:
        raise NotCompiled
    arguments = get_argument_values(query.fields[name], nodes[0], walker.variables)
    return Root(key, name, arguments, walker.shape(query.fields[name].type, nodes))


def _document_of(
    document: DocumentNode, operation: OperationDefinitionNode, fields: list[FieldNode]
) -> DocumentNode:
    """The operation with only ``fields`` at its root (fragments, variables and directives kept)."""
    only = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    fragments = tuple(d for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    return DocumentNode(definitions=(only, *fragments))


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
