"""The lookahead: which fields a query selects on the objects of one type below a resolver."""

from __future__ import annotations

from typing import Annotated

import pytest
import strawberry

from app.graphql.lookahead import selected_on

SEEN: dict[str, frozenset[str]] = {}


@strawberry.type
class Leaf:
    name: str
    size: int


@strawberry.type
class Item:
    title: str
    leaf: Leaf
    children: list[Item]


@strawberry.type
class Edge:
    cursor: str
    node: Item


@strawberry.type
class Connection:
    edges: list[Edge]
    nodes: list[Item]


@strawberry.type
class Problem:
    message: str


Result = Annotated[Item | Problem, strawberry.union("Result")]


def _item() -> Item:
    return Item(title="t", leaf=Leaf(name="n", size=1), children=[])


def _record(info: strawberry.Info, *type_names: str) -> None:
    for type_name in type_names:
        SEEN[f"{info.field_name}:{type_name}"] = selected_on(info, type_name)


@strawberry.type
class Query:
    @strawberry.field
    def items(self, info: strawberry.Info) -> list[Item] | None:
        _record(info, "Item", "Leaf")
        return [_item()]

    @strawberry.field
    def connection(self, info: strawberry.Info) -> Connection:
        _record(info, "Item", "Edge")
        return Connection(edges=[Edge(cursor="c", node=_item())], nodes=[_item()])

    @strawberry.field
    def result(self, info: strawberry.Info) -> Result:
        _record(info, "Item")
        return _item()


SCHEMA = strawberry.Schema(query=Query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ items { title } }", {"items:Item": {"title"}, "items:Leaf": set()}),
        (
            "{ items { title leaf { name } children { leaf { size } } } }",
            # the walk stops at the first Item (the children look ahead for themselves), and goes on
            # through other types to the first Leaf of every path
            {"items:Item": {"title", "leaf", "children"}, "items:Leaf": {"name", "size"}},
        ),
        (
            "{ items { t: title ...F ... on Item { leaf { size } } } } "
            "fragment F on Item { children { title } }",
            {"items:Item": {"title", "children", "leaf"}, "items:Leaf": {"size"}},
        ),
        (
            "query($no: Boolean!) { items { title @skip(if: $no) leaf @include(if: $no) { name } } }",
            # @skip/@include are not evaluated: what they may drop is still counted as selected
            {"items:Item": {"title", "leaf"}, "items:Leaf": {"name"}},
        ),
        (
            "{ connection { edges { cursor node { title } } nodes { leaf { name } } } }",
            {"connection:Item": {"title", "leaf"}, "connection:Edge": {"cursor", "node"}},
        ),
        ("{ connection { nodes { title } } }", {"connection:Item": {"title"}, "connection:Edge": set()}),
        (
            "{ result { __typename ... on Item { title leaf { name } } ... on Problem { message } } }",
            {"result:Item": {"title", "leaf"}},
        ),
        ("{ result { ...P } } fragment P on Problem { message }", {"result:Item": set()}),
    ],
)
async def test_selected_on(query: str, expected: dict[str, set[str]]) -> None:
    SEEN.clear()
    result = await SCHEMA.execute(query, variable_values={"no": True})
    assert result.errors is None, result.errors
    assert {key: set(found) for key, found in SEEN.items()} == expected
