"""Which fields a query selects on the objects one level below the current field (query lookahead).

A resolver that returns a list of initiatives asks which of their nested fields the query wants, so
it can load that nested data for the whole list at once and hand out plain objects: graphql-core then
completes those fields without a resolver call, a coroutine or a task per item (for a list of
hundreds, the cost per field is what decides the time of the answer). The walk follows lists,
connections, unions and fragments, and stops at the first object of the asked type (deeper levels
look ahead for themselves).

Read from Strawberry's ``info.selected_fields`` (the selection below the current field, fragments
spread in) and the Strawberry schema's types. ``@skip``/``@include`` are not evaluated: a field they
drop is still loaded (one statement for the whole level, never per item), so the answer is the same.
"""

from __future__ import annotations

from typing import Any

from strawberry.types.base import StrawberryContainer, StrawberryObjectDefinition, get_object_definition
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection
from strawberry.types.union import StrawberryUnion


def selected_on(info: Any, type_name: str) -> frozenset[str]:
    """Field names selected on ``type_name`` objects below the field being resolved (Strawberry's
    ``Info``)."""
    walker = _Walker(info.schema, type_name)
    start = walker.named(info.return_type)
    for field in info.selected_fields:
        walker.walk(field.selections, start)
    return frozenset(walker.found)


class _Walker:
    def __init__(self, schema: Any, target: str) -> None:
        self.schema = schema
        self.target = target
        self.found: set[str] = set()

    def walk(self, selections: list[Selection], parent: str | None) -> None:
        if parent is None:  # a scalar or an enum: nothing below it
            return
        for selection in selections:
            if isinstance(selection, SelectedField):
                self.field(selection, parent)
            elif isinstance(selection, InlineFragment):
                self.walk(selection.selections, selection.type_condition or parent)
            elif isinstance(selection, FragmentSpread):
                self.walk(selection.selections, selection.type_condition)

    def field(self, selected: SelectedField, parent: str) -> None:
        if parent == self.target:
            self.found.add(selected.name)
            return
        if not selected.selections or not isinstance(
            self.schema.get_type_by_name(parent), StrawberryObjectDefinition
        ):
            return
        definition = self.schema.get_field_for_type(selected.name, parent)
        if definition is not None:
            self.walk(selected.selections, self.named(definition.type))

    def named(self, field_type: Any) -> str | None:
        return type_name(self.schema, field_type)


def type_name(schema: Any, field_type: Any) -> str | None:
    """The GraphQL name of an object, interface or union type below lists and non-nulls (None for
    scalars and enums)."""
    while isinstance(field_type, StrawberryContainer):
        field_type = field_type.of_type
    names = schema.config.name_converter
    if isinstance(field_type, StrawberryUnion):
        return str(names.from_type(field_type))
    definition = get_object_definition(field_type)
    return None if definition is None else str(names.from_type(definition))
