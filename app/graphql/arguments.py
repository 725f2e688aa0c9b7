"""Rules every GraphQL argument obeys, checked before any resolver (or SQL) runs.

* Text holds no control characters: the one rule of ``app.domain.text`` that every input schema
  uses, applied here to the document's string literals and to every string in the variables, so an
  argument that never becomes a domain model (a buurt code, a theme filter, an id) is held to it too.
  PostgreSQL refuses NUL in text; without this a ``\\u0000`` in ``neighbourhood(code:)`` reached the
  database and came back as "Unexpected error.".
* A page size (``first`` and its kin, declared with ``page_size``) lies between 1 and its field's
  maximum: ``first: -5`` is a mistake to report, not a page of one to answer silently.

A broken rule refuses the whole request before execution, the way graphql-core refuses a variable of
the wrong type: ``data`` is null and each error names the argument (or variable) and the rule, never
the value. The document is examined once per query text and operation (cached like the parse and
validation caches, which it follows); the variables once per request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.arguments import StrawberryArgumentAnnotation
from strawberry.types.base import StrawberryObjectDefinition

from app.domain.text import CONTROL_CHARACTER, CONTROL_CHARACTER_MESSAGE, has_control_characters
from app.graphql.limits import CACHE_SIZE
from app.graphql.lookahead import type_name

PAGE_SIZE = "wijkwerk.page_size"  # key of an argument's metadata: the largest page it allows
BAD_USER_INPUT = "BAD_USER_INPUT"


def page_size(maximum: int) -> StrawberryArgumentAnnotation:
    """``first: Annotated[int, page_size(500)] = 100``: a page size from 1 to ``maximum``."""
    return strawberry.argument(description=f"Page size, 1 to {maximum}.", metadata={PAGE_SIZE: maximum})


@dataclass(frozen=True)
class _Problem:
    """A broken rule found in the document (made into a fresh GraphQLError for each request)."""

    message: str
    rule: str
    at: str
    node: Node

    def error(self) -> GraphQLError:
        return _error(self.message, self.rule, self.at, self.node)


def _error(message: str, rule: str, at: str, node: Node | None = None) -> GraphQLError:
    extensions = {"code": BAD_USER_INPUT, "rule": rule, "argument": at}
    return GraphQLError(message, node, extensions=extensions)


def _page_message(at: str, maximum: int) -> str:
    return f"{at}: a page size is from 1 to {maximum}."


def _text_message(at: str) -> str:
    return f"{at}: {CONTROL_CHARACTER_MESSAGE}"


@dataclass(frozen=True)
class _PageVariable:
    """A variable given as a page size: its value is known per request."""

    operation: str | None
    variable: str
    at: str
    maximum: int
    default: int | None  # the variable's own default (a literal), if it declares one
    node: VariableNode


@dataclass(frozen=True)
class _Examined:
    problems: tuple[_Problem, ...]
    page_variables: tuple[_PageVariable, ...]

    def errors(self, operation: str | None, variables: Mapping[str, Any]) -> list[GraphQLError]:
        errors = [problem.error() for problem in self.problems]
        for usage in self.page_variables:
            if usage.operation != operation:
                continue
            value = variables.get(usage.variable, usage.default)
            if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= usage.maximum:
                at = f"{usage.at}, given as ${usage.variable}"
                errors.append(_error(_page_message(at, usage.maximum), "page_size", at, usage.node))
        for path in _control_character_paths(variables):
            at = "$" + path
            errors.append(_error(_text_message(at), CONTROL_CHARACTER, at))
        return errors


def _control_character_paths(value: Any, path: str = "") -> Iterator[str]:
    """Where the request's variables hold text with a control character (keys included)."""
    if isinstance(value, str):
        if has_control_characters(value):
            yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if has_control_characters(str(key)):
                yield inner
            else:
                yield from _control_character_paths(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _control_character_paths(item, f"{path}[{index}]")


@dataclass(frozen=True)
class _Place:
    """Where a value sits, for messages: ``Query.neighbourhood(code)``,
    ``Mutation.proposeInitiative(input.initiator.name)`` or a variable's default, ``$filter.theme``."""

    where: str
    path: tuple[str, ...]

    def inside(self, name: str) -> _Place:
        return _Place(self.where, (*self.path, name))

    def __str__(self) -> str:
        inner = ".".join(self.path)
        return self.where + inner if self.where == "$" else f"{self.where}({inner})"


class _Walker:
    """Walks one document with the Strawberry schema's types: string literals anywhere, page sizes
    where an argument declares ``page_size``."""

    def __init__(self, schema: strawberry.Schema, document: DocumentNode) -> None:
        self.schema = schema
        self.names = schema.config.name_converter
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.problems: list[_Problem] = []
        self.page_variables: list[_PageVariable] = []
        self.operation: OperationDefinitionNode | None = None
        self.spread: set[str] = set()

    def document(self, document: DocumentNode) -> _Examined:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                self.operation_definition(definition)
        return _Examined(tuple(self.problems), tuple(self.page_variables))

    def operation_definition(self, node: OperationDefinitionNode) -> None:
        self.operation, self.spread = node, set()
        for variable in node.variable_definitions or ():
            if variable.default_value is not None:
                self.value(variable.default_value, _Place("$", (variable.variable.name.value,)), None)
        root = {OperationType.QUERY: self.schema.query, OperationType.MUTATION: self.schema.mutation}
        root_type = root.get(node.operation)
        self.directives(node)
        self.selections(node.selection_set, type_name(self.schema, root_type) if root_type else None)

    def selections(self, selection_set: SelectionSetNode | None, parent: str | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            self.directives(selection)
            if isinstance(selection, FieldNode):
                self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                self.selections(selection.selection_set, condition.name.value if condition else parent)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in self.spread:  # each fragment once per operation
                    self.spread.add(name)
                    self.directives(fragment)
                    self.selections(fragment.selection_set, fragment.type_condition.name.value)

    def field(self, node: FieldNode, parent: str | None) -> None:
        definition = None
        parent_type = self.schema.get_type_by_name(parent) if parent is not None else None
        if parent is not None and isinstance(parent_type, StrawberryObjectDefinition):
            definition = self.schema.get_field_for_type(node.name.value, parent)
        arguments = {self.names.from_argument(a): a for a in definition.arguments} if definition else {}
        for argument in node.arguments or ():
            name = argument.name.value
            declared = arguments.get(name)
            maximum = declared.metadata.get(PAGE_SIZE) if declared is not None else None
            self.value(argument.value, _Place(f"{parent}.{node.name.value}", (name,)), maximum)
        child = type_name(self.schema, definition.type) if definition is not None else None
        self.selections(node.selection_set, child)

    def directives(self, node: Any) -> None:
        for directive in getattr(node, "directives", None) or ():
            for argument in directive.arguments or ():
                self.value(argument.value, _Place(f"@{directive.name.value}", (argument.name.value,)), None)

    def value(self, node: ValueNode, place: _Place, maximum: int | None) -> None:
        if isinstance(node, StringValueNode):
            if has_control_characters(node.value):
                at = str(place)
                self.problems.append(_Problem(_text_message(at), CONTROL_CHARACTER, at, node))
        elif isinstance(node, ListValueNode):
            for item in node.values:
                self.value(item, place, None)
        elif isinstance(node, ObjectValueNode):
            for entry in node.fields:
                self.value(entry.value, place.inside(entry.name.value), None)
        elif maximum is not None and isinstance(node, IntValueNode):
            if not 1 <= int(node.value) <= maximum:
                at = str(place)
                self.problems.append(_Problem(_page_message(at, maximum), "page_size", at, node))
        elif maximum is not None and isinstance(node, VariableNode):
            self.page_variable(node, str(place), maximum)

    def page_variable(self, node: VariableNode, at: str, maximum: int) -> None:
        assert self.operation is not None
        name = node.name.value
        default = None
        for variable in self.operation.variable_definitions or ():
            if variable.variable.name.value == name and isinstance(variable.default_value, IntValueNode):
                default = int(variable.default_value.value)
        operation = self.operation.name.value if self.operation.name else None
        self.page_variables.append(_PageVariable(operation, name, at, maximum, default, node))


@dataclass(frozen=True)
class _Query:
    """The cache key: the query's text (cheap to hash); the parsed document rides along."""

    text: str
    document: DocumentNode = field(compare=False, hash=False)


@lru_cache(maxsize=CACHE_SIZE)
def _examine(schema: strawberry.Schema, query: _Query) -> _Examined:
    return _Walker(schema, query.document).document(query.document)


class ArgumentRules(SchemaExtension):
    """Refuses an operation whose arguments break a rule, after validation, before execution."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.query is not None:
            examined = _examine(context.schema, _Query(context.query, document))
            errors = examined.errors(context.operation_name, context.variables or {})
            if errors:
                # A result set before execution is answered as is: graphql-core never runs.
                context.result = ExecutionResult(data=None, errors=errors)
        yield
