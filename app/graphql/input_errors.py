"""GraphQL errors about submitted input, said without the submitted value.

graphql-core and Strawberry quote what the client sent: a variable that does not coerce ("Variable
'$input' has invalid value at .heldOn: Value cannot represent a Date: "<the text>""), a literal of
the wrong type in the document, an enum value that does not exist, an unknown key of an input
object, the token a syntax error stopped at. The rule "never echo submitted data" holds for GraphQL
through this one place: ``SubmittedValuesOut`` rebuilds each such error, after the operation and
before the answer is written, from what is known without the value:

* a variable: its name, where in its value (schema field names and list indexes only) and the rule
  broken there, found by walking the value against the variable's declared type with the schema's
  own scalar parsers (``rule`` is ``required``, ``not_an_object``, ``unknown_field``, ``enum`` or
  ``scalar``);
* a literal in the document: the argument (or variable default) it was given for, and the same rule;
* a syntax error: its line and column only.

An error whose place cannot be worked out is answered with the generic message of its kind (never the
original). Errors of ours (argument rules, limits, permissions, problems) and graphql-core's messages
about names in the document (an unknown field or argument) are left as they are: they hold names of
the schema or of the document's own structure, not data. Logging never writes messages at all
(``app.graphql.errors``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSyntaxError,
    IntValueNode,
    Node,
    ObjectFieldNode,
    Source,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_nullable_type,
    print_ast,
    type_from_ast,
    value_from_ast_untyped,
    visit,
)
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import SchemaExtension
from strawberry.types.scalar import ScalarDefinition

from app.graphql.arguments import BAD_USER_INPUT
from app.graphql.compiled import mirror_of

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Broken:
    """One broken rule inside a value: where (schema names and indexes) and what."""

    path: Path
    rule: str
    message: str


def _where(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _at(path: Path) -> str:
    return f" at {_where(path)}" if path else ""


class _Checker:
    """Walks a submitted value against an input type the way graphql-core coerces it (a single value
    stands for a list of one; a missing nullable field is fine), reporting rules, never values."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self.schema = schema

    def check(self, value: Any, type_: GraphQLInputType, path: Path = ()) -> Iterator[Broken]:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                yield Broken(path, "required", f"must not be null ({type_}).")
            else:
                yield from self.check(value, type_.of_type, path)
        elif value is None:
            return
        elif isinstance(type_, GraphQLList):
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                yield from self.check(
                    item, type_.of_type, (*path, index) if isinstance(value, list) else path
                )
        elif isinstance(type_, GraphQLInputObjectType):
            yield from self.input_object(value, type_, path)
        elif isinstance(type_, GraphQLEnumType):
            if not isinstance(value, str) or value not in type_.values:
                allowed = ", ".join(type_.values)
                yield Broken(path, "enum", f"must be one of {type_.name}: {allowed}.")
        elif isinstance(type_, GraphQLScalarType) and not self.parses(type_.name, value):
            yield Broken(path, "scalar", f"must be a valid {type_.name}.")

    def input_object(self, value: Any, type_: GraphQLInputObjectType, path: Path) -> Iterator[Broken]:
        if not isinstance(value, Mapping):
            yield Broken(path, "not_an_object", f"must be an object of type {type_.name}.")
            return
        if any(key not in type_.fields for key in value):
            yield Broken(path, "unknown_field", f"holds a field that {type_.name} does not declare.")
        for name, field in type_.fields.items():
            if name in value:
                yield from self.check(value[name], field.type, (*path, name))
            elif isinstance(field.type, GraphQLNonNull) and field.default_value is None:
                yield Broken((*path, name), "required", f"is required ({field.type}).")

    def literal_parses(self, name: str, node: ValueNode) -> bool:
        """Whether the schema's own literal parser of scalar ``name`` takes ``node``."""
        definition = self.schema.get_type_by_name(name)
        if not isinstance(definition, ScalarDefinition) or definition.parse_literal is None:
            return self.parses(name, value_from_ast_untyped(node))
        try:
            definition.parse_literal(node, None)
        except Exception:  # any refusal is the rule broken; what it said may quote the value
            return False
        return True

    def parses(self, name: str, value: Any) -> bool:
        """Whether the schema's own parser of scalar ``name`` takes ``value``."""
        definition = self.schema.get_type_by_name(name)
        if not isinstance(definition, ScalarDefinition) or definition.parse_value is None:
            return True  # a scalar taking anything
        try:
            definition.parse_value(value)
        except Exception:  # any refusal is the rule broken; what it said may quote the value
            return False
        return True


@dataclass(frozen=True)
class _LiteralPlace:
    """Where a literal of the document sits: ``Mutation.recordMeeting(input.heldOn)`` or a variable's
    default, ``$filter.status``, and the input type expected there."""

    where: str
    type_: GraphQLInputType | None


class _FindLiteral(Visitor):
    def __init__(self, target: Node, type_info: TypeInfo) -> None:
        super().__init__()
        self.target, self.type_info = target, type_info
        self.found: _LiteralPlace | None = None

    def enter(self, node: Node, key: Any, parent: Any, path: Any, ancestors: list[Any]) -> Any:
        if node is not self.target:
            return None
        chain = [*ancestors, parent]
        self.found = _LiteralPlace(_literal_where(chain, self.type_info), self.type_info.get_input_type())
        return self.BREAK


class _FindBadScalar(Visitor):
    def __init__(self, type_info: TypeInfo, checker: _Checker) -> None:
        super().__init__()
        self.type_info, self.checker = type_info, checker
        self.found: ValueNode | None = None

    def enter(self, node: Node, *_: Any) -> Any:
        type_ = get_nullable_type(self.type_info.get_input_type())
        if (
            isinstance(
                node, StringValueNode | IntValueNode | FloatValueNode | BooleanValueNode | EnumValueNode
            )
            and isinstance(type_, GraphQLScalarType)
            and not self.checker.literal_parses(type_.name, node)
        ):
            self.found = node
            return self.BREAK
        return None


def _literal_where(ancestors: list[Any], type_info: TypeInfo) -> str:
    nodes = [a for a in ancestors if isinstance(a, Node)]
    inner = [n.name.value for n in nodes if isinstance(n, ObjectFieldNode)]
    variable = next((n for n in nodes if isinstance(n, VariableDefinitionNode)), None)
    if variable is not None:
        return "$" + ".".join([variable.variable.name.value, *inner]) + " (its default)"
    field = next((n for n in reversed(nodes) if isinstance(n, FieldNode)), None)
    argument = next((n for n in reversed(nodes) if isinstance(n, ArgumentNode)), None)
    parent = type_info.get_parent_type()
    owner = f"{parent.name}." if parent is not None else ""
    field_name = field.name.value if field is not None else "?"
    argument_name = argument.name.value if argument is not None else "?"
    return f"{owner}{field_name}(" + ".".join([argument_name, *inner]) + ")"


def _syntax_error(error: GraphQLSyntaxError) -> GraphQLSyntaxError:
    """The same syntax error, its place kept, without the token it stopped at (which may be a value).

    graphql-core quotes every token it names (``found String "..."``, ``Unexpected character: 'x'``);
    a message without a quote names none (the token limit's "Document contains more than ...")."""
    if not set(error.message) & {"'", '"'}:
        return error
    where = ", ".join(f"line {loc.line}, column {loc.column}" for loc in error.locations or ())
    if error.source is None or not error.positions:
        return GraphQLSyntaxError(Source(""), 0, "the document cannot be parsed.")
    return GraphQLSyntaxError(
        error.source, next(iter(error.positions)), f"the document cannot be parsed at {where}."
    )


def _bad_input(message: str, error: GraphQLError, rule: str, at: str) -> GraphQLError:
    extensions = {"code": BAD_USER_INPUT, "rule": rule, "argument": at}
    return GraphQLError(message, error.nodes, error.source, error.positions, extensions=extensions)


class _Rewriter:
    def __init__(self, schema: strawberry.Schema, document: DocumentNode | None) -> None:
        self.schema, self.document = schema, document
        self.mirror: GraphQLSchema = mirror_of(schema)
        self.checker = _Checker(schema)

    def rewrite(self, error: GraphQLError, variables: Mapping[str, Any]) -> GraphQLError:
        if error.extensions and "code" in error.extensions:
            return error  # ours (argument rules, limits, permissions): named without values already
        if isinstance(error, GraphQLSyntaxError):
            return _syntax_error(error)
        if isinstance(error, StrawberryInputCoercionError) and not error.nodes and error.path is None:
            return self.scalar_literal(error)  # a custom scalar's literal: Strawberry names no node
        if error.path is not None or not error.nodes:
            return error  # raised while resolving a field (ours) or about the request as a whole
        node = error.nodes[0]
        if isinstance(node, VariableDefinitionNode):
            return self.variable(error, node, variables)
        if isinstance(node, ValueNode) and not isinstance(node, VariableNode):
            return self.literal(error, node)
        if isinstance(node, ObjectFieldNode):
            return _bad_input(
                "An input object in the document holds a field its type does not declare.",
                error,
                "unknown_field",
                "document",
            )
        return error

    def variable(
        self, error: GraphQLError, node: VariableDefinitionNode, variables: Mapping[str, Any]
    ) -> GraphQLError:
        name = "$" + node.variable.name.value
        type_ = type_from_ast(self.mirror, node.type)
        broken = []
        if type_ is not None:
            value = variables.get(node.variable.name.value)
            broken = list(self.checker.check(value, type_))  # type: ignore[arg-type]
        if not broken:
            return _bad_input(
                f"Variable '{name}' does not match its type {print_ast(node.type)}.", error, "type", name
            )
        first = broken[0]
        return _bad_input(
            f"Variable '{name}'{_at(first.path)}: {first.message}",
            error,
            first.rule,
            name + _where(first.path),
        )

    def literal(self, error: GraphQLError, node: ValueNode) -> GraphQLError:
        place = self.find(node)
        if place is None:
            return _bad_input("A value in the document is not valid for its type.", error, "type", "document")
        broken = []
        if place.type_ is not None:
            broken = list(self.checker.check(value_from_ast_untyped(node), place.type_))
        if not broken:
            return _bad_input(
                f"{place.where}: the value in the document is not valid for its type.",
                error,
                "type",
                place.where,
            )
        first = broken[0]
        return _bad_input(
            f"{place.where}{_at(first.path)}: {first.message}",
            error,
            first.rule,
            place.where + _where(first.path),
        )

    def scalar_literal(self, error: GraphQLError) -> GraphQLError:
        node = self.first_bad_scalar_literal()
        if node is None:
            return _bad_input(
                "A value in the document is not valid for its type.", error, "scalar", "document"
            )
        return self.literal(GraphQLError(error.message, node), node)

    def first_bad_scalar_literal(self) -> ValueNode | None:
        """The first literal of the document its scalar's own parser refuses."""
        if self.document is None:
            return None
        type_info = TypeInfo(self.mirror)
        finder = _FindBadScalar(type_info, self.checker)
        visit(self.document, TypeInfoVisitor(type_info, finder))
        return finder.found

    def find(self, node: Node) -> _LiteralPlace | None:
        if self.document is None:
            return None
        type_info = TypeInfo(self.mirror)
        finder = _FindLiteral(node, type_info)
        visit(self.document, TypeInfoVisitor(type_info, finder))
        return finder.found


class SubmittedValuesOut(SchemaExtension):
    """Rebuilds every error about submitted input without the value (see the module's text).

    Errors found in parsing or validation and in variable coercion end up in the operation's result;
    a syntax error found by the parse cache leaves the operation as an exception, which Strawberry
    answers as the error it is: each is rebuilt here on its way out."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            raise self.rewriter().rewrite(error, {}) from None
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            rewriter = self.rewriter()
            variables = self.execution_context.variables or {}
            result.errors = [rewriter.rewrite(e, variables) for e in errors]  # type: ignore[union-attr]

    def rewriter(self) -> _Rewriter:
        return _Rewriter(self.execution_context.schema, self.execution_context.graphql_document)
