"""Which fields a query selects on the objects one level below the current field (query lookahead).

A resolver that returns a list of initiatives asks which of their nested fields the query wants, so
it can load that nested data for the whole list at once and hand out plain objects: graphql-core then
completes those fields without a resolver call, a coroutine or a task per item (PERFORMANCE.md: the
per-field cost decides large results). The walk follows lists, connections, unions and fragments,
and stops at the first object of the asked type (deeper levels look ahead for themselves).

``@skip``/``@include`` are not evaluated: a field they drop is still loaded (one statement for the
whole level, never per item). Answers are memoised per parsed field node: with the ParserCache the
same document objects come back for the same query text, so the walk runs once per distinct query.
"""

from __future__ import annotations

import weakref
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)

_MEMO_SIZE = 1024
# (id of the first field node, type name) -> (weak reference to that node, answer). The reference
# tells a live entry from one whose node was freed and whose id was reused.
_memo: dict[tuple[int, str], tuple[weakref.ref[FieldNode], frozenset[str]]] = {}


def selected_on(info: Any, type_name: str) -> frozenset[str]:
    """Field names selected on ``type_name`` objects below the field being resolved.

    ``info`` is Strawberry's Info (or graphql-core's GraphQLResolveInfo).
    """
    raw: GraphQLResolveInfo = getattr(info, "_raw_info", info)
    first = raw.field_nodes[0]
    key = (id(first), type_name)
    hit = _memo.get(key)
    if hit is not None and hit[0]() is first:
        return hit[1]
    found: set[str] = set()
    walker = _Walker(raw.schema, raw.fragments, type_name, found)
    for node in raw.field_nodes:
        walker.walk(node.selection_set, get_named_type(raw.return_type))
    answer = frozenset(found)
    if len(_memo) >= _MEMO_SIZE:
        _memo.clear()
    _memo[key] = (weakref.ref(first), answer)
    return answer


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        target: str,
        found: set[str],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.target = target
        self.found = found
        self.spread: set[tuple[str, str]] = set()  # (fragment, type) walked; also stops cycles

    def walk(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> None:
        if selection_set is None or parent is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                self.walk(selection.selection_set, self._type(condition.name.value) if condition else parent)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and (name, parent.name) not in self.spread:
                    self.spread.add((name, parent.name))
                    self.walk(fragment.selection_set, self._type(fragment.type_condition.name.value))

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> None:
        if parent.name == self.target:
            self.found.add(node.name.value)
            return
        if node.selection_set is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        definition = parent.fields.get(node.name.value)
        if definition is not None:
            self.walk(node.selection_set, get_named_type(definition.type))

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name)
