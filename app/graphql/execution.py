"""A leaner path for plain data: graphql-core's per-field machinery, skipped where it does nothing.

Most of a large answer is plain data: Strawberry fields without a resolver, permission or
extension, whose value is an attribute of the object (a title, an amount, a date; an initiative's
grant, network and themes, which ``types.initiatives_for`` loads for the whole list beforehand). For
each such field graphql-core still makes a response path and a resolve-info object, calls
Strawberry's wrapper, checks for an awaitable and walks ``complete_value`` (~12 µs a field,
PERFORMANCE.md). Such fields are marked once when the schema is built. When an object is completed,
its plain fields are read here: leaves coerced with the same ``coerce_output_value`` graphql-core
calls, objects and lists of objects completed the same way when everything selected below them is
plain too (sub-selections come from graphql-core's own memoised ``collect_subfields``, so fragments
and ``@skip``/``@include`` are as usual). graphql-core executes every other field. Anything unusual
(a null in a non-null field, a value of the wrong shape, a coercion error, an object type with its
own ``is_type_of``, middleware, ``@defer``) goes back to graphql-core's own path for that field, so
results and errors are the same; permissions are untouched (a field with one is never plain).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

PLAIN = "wijkwerk.plain"  # key in GraphQLField.extensions: see _shape
LEAF, OBJECT, OBJECTS, TYPENAME = "leaf", "object", "objects", "typename"
_MISSING = object()
# (response key, kind, attribute, leaf coercion or object type, non-null, items non-null, field nodes)
Entry = tuple[str, str, str, Any, bool, bool, Any]


def _shape(field_type: Any) -> tuple[str, Any, bool, bool] | None:
    """(kind, leaf coercion or object type, non-null, items non-null) for a leaf, an object or a
    list of objects."""
    non_null = isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if non_null else field_type
    if is_leaf_type(inner):
        return LEAF, _coercion(inner), non_null, False
    if isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
        return OBJECT, inner, non_null, False
    if isinstance(inner, GraphQLList):
        items_non_null = isinstance(inner.of_type, GraphQLNonNull)
        item = inner.of_type.of_type if items_non_null else inner.of_type
        if isinstance(item, GraphQLObjectType) and item.is_type_of is None:
            return OBJECTS, item, non_null, items_non_null
    return None


def _coercion(leaf: Any) -> Any:
    """The leaf type's ``coerce_output_value``; for a Strawberry enum the same answer from a dict.

    Strawberry's enum type finds a member's name by comparing ``.value`` with every value of the
    enum, for every item (a few µs each; an initiative's status and its grant's decision). Its
    members map to names once here; anything else still goes to the type itself.
    """
    coerce = leaf.coerce_output_value
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not (isinstance(wrapped, type) and issubclass(wrapped, Enum)):
        return coerce
    names: dict[Any, str] = {}
    for member in wrapped:
        names.setdefault(member, coerce(member))

    def coerce_member(value: Any) -> Any:
        return names[value] if type(value) is wrapped and value in names else coerce(value)

    return coerce_member


def mark_plain_fields(schema: GraphQLSchema, default_resolver: Any) -> int:
    """Mark the plain fields of ``schema``; returns how many (the tests look at it)."""
    if default_resolver is not getattr:  # a custom default resolver may do more than read
        return 0
    marked = 0
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if definition is None or not definition.is_basic_field:
                continue
            shape = _shape(field.type)
            if shape is not None:
                field.extensions[PLAIN] = (definition.python_name, *shape)
                marked += 1
    return marked


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a middleware manager; an empty one leaves resolvers untouched.
        manager = self.middleware_manager
        self.plain_fields = manager is None or not manager.middlewares
        # (id of a grouped field set, type) -> (the set, its plain entries, the other fields).
        # graphql-core memoises the set per type and selection: every item of a list reuses a split.
        self._splits: dict[tuple[int, str], tuple[Any, list[Entry], dict[str, Any]]] = {}
        self._shapes: dict[int, Any] = {}  # id of a field's type (schema-owned) -> _shape of it
        self._plans: dict[tuple[int, int], Any] = {}  # (type, field nodes) -> plain entries or None

    def _split(
        self, parent_type: GraphQLObjectType, grouped: dict[str, Any]
    ) -> tuple[list[Entry], dict[str, Any]]:
        key = (id(grouped), parent_type.name)
        found = self._splits.get(key)
        if found is None or found[0] is not grouped:
            plain: list[Entry] = []
            other: dict[str, Any] = {}
            for response_name, details in grouped.items():
                name = details[0].node.name.value
                field_def = parent_type.fields.get(name)
                marked = field_def.extensions.get(PLAIN) if field_def is not None else None
                if name == "__typename":
                    plain.append((response_name, TYPENAME, "", parent_type.name, True, False, details))
                elif marked is None:
                    other[response_name] = details
                else:
                    attribute, kind, named, non_null, items_non_null = marked
                    plain.append((response_name, kind, attribute, named, non_null, items_non_null, details))
            found = self._splits[key] = (grouped, plain, other)
        return found[1], found[2]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: dict[str, Any],
        position_context: Any,
    ) -> Any:
        if not self.plain_fields or position_context is not None:  # middleware or @defer: as is
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plain, other = self._split(parent_type, grouped_field_set)
        values: dict[str, Any] = {}
        for entry in plain:
            value = self._value(entry, source_value)
            if value is _MISSING:  # unusual: let graphql-core resolve it (and report any error)
                other = {**other, entry[0]: grouped_field_set[entry[0]]}
            else:
                values[entry[0]] = value
        if not other:
            return values
        rest: Any = super().execute_fields(parent_type, source_value, path, other, position_context)
        if self.is_awaitable(rest):

            async def merged() -> dict[str, Any]:
                return _in_order(grouped_field_set, values, await rest)

            return merged()
        return _in_order(grouped_field_set, values, rest)

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A resolver's list of objects (e.g. a buurt's initiatives) completed in one go when every
        field selected on them is plain; anything else as graphql-core does it."""
        if self.plain_fields and position_context is None and not isinstance(result, Exception):
            shape = self._shapes.get(id(return_type), _MISSING)
            if shape is _MISSING:
                shape = self._shapes[id(return_type)] = _shape(return_type)
            if shape is not None and shape[0] != LEAF:
                kind, named, non_null, items_non_null = shape
                entry = ("", kind, "", named, non_null, items_non_null, field_details_list)
                done = self._complete(entry, result)
                if done is not _MISSING:
                    return done
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    def _value(self, entry: Entry, source: Any) -> Any:
        """The completed value of one plain field, or _MISSING to leave it to graphql-core."""
        if entry[1] == TYPENAME:
            return entry[3]
        try:
            value = getattr(source, entry[2], _MISSING)
        except Exception:
            return _MISSING
        return _MISSING if value is _MISSING else self._complete(entry, value)

    def _complete(self, entry: Entry, value: Any) -> Any:
        _response_name, kind, _attribute, named, non_null, items_non_null, details = entry
        if value is None:
            return _MISSING if non_null else None
        if kind == LEAF:
            return _leaf(named, value)
        if kind == OBJECT:
            return self._object(named, details, value)
        if not isinstance(value, list | tuple):
            return _MISSING
        items: list[Any] = []
        for item in value:
            if item is None:
                if items_non_null:
                    return _MISSING
                items.append(None)
                continue
            done = self._object(named, details, item)
            if done is _MISSING:
                return _MISSING
            items.append(done)
        return items

    def _plan(self, object_type: GraphQLObjectType, details: Any) -> list[Entry] | None:
        """The plain entries selected on ``object_type`` by ``details``; None unless all are plain."""
        key = (id(object_type), id(details))
        found = self._plans.get(key, _MISSING)
        if found is _MISSING:
            grouped, defer_usages, _forbidden = self.collect_subfields(object_type, details)
            plain, other = self._split(object_type, grouped)
            found = None if defer_usages or other else plain
            self._plans[key] = (details, found)  # holding ``details`` keeps its id unique
            return found
        return found[1]

    def _object(self, object_type: GraphQLObjectType, details: Any, value: Any) -> Any:
        """An object whose selected fields are all plain, as a dict; else _MISSING."""
        plan = self._plan(object_type, details)
        if plan is None:
            return _MISSING
        result: dict[str, Any] = {}
        try:  # the common case inline (leaves): one loop, no call per field
            for entry in plan:
                response_name, kind, attribute, named, non_null = entry[:5]
                if kind == LEAF:
                    found = getattr(value, attribute, _MISSING)
                    if found is None:
                        if non_null:
                            return _MISSING
                        result[response_name] = None
                        continue
                    if found is _MISSING:
                        return _MISSING
                    found = named(found)
                    if found is None or found is Undefined:
                        return _MISSING
                else:
                    found = self._value(entry, value)
                    if found is _MISSING:
                        return _MISSING
                result[response_name] = found
        except Exception:
            return _MISSING
        return result


def _leaf(coerce: Any, value: Any) -> Any:
    try:
        coerced = coerce(value)
    except Exception:
        return _MISSING
    return _MISSING if coerced is None or coerced is Undefined else coerced


def _in_order(grouped: dict[str, Any], values: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """One result object with the keys in the order of the query."""
    return {k: values[k] if k in values else rest[k] for k in grouped if k in values or k in rest}
