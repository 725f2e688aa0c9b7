"""The fast paths give graphql-core's answers: plain fields, level loading, lookahead, cached statements.

Every query runs through the served schema (plain fields completed by app.graphql.execution) and
through the same schema with all of execution left to graphql-core; data and errors must be equal.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import strawberry
from fastapi import FastAPI

from app.graphql.context import GraphQLContext
from app.graphql.execution import ExecutionContext, mark_plain_fields
from app.graphql.schema import build_schema
from app.security.principal import Principal
from app.settings import Settings
from tests.graphql.test_limits import statements
from tests.initiatives.factories import Networks

WIDE = """
fragment G on Grant { decision amountCents reason __typename }
fragment I on Initiative {
  id t: title status requestedAmountCents startsOn year version createdAt
  themes { code c: labelNl } grant { ...G } network { id name members { displayName } }
  neighbourhood { code name @skip(if: $yes) wijkCode @include(if: $yes) }
  initiator { name email } report
}
query($code: String!, $yes: Boolean!) {
  neighbourhood(code: $code) {
    __typename code
    initiatives(first: 50) { ...I ... on Initiative { again: id } }
    networks { name yearPlans { year spentCents priorities { code } } grants { amountCents reason } }
  }
  initiatives(first: 5) {
    edges { cursor node { ... on Initiative { id title themes { code } } } }
    nodes { id grant { amountCents } network { name area { code } } }
    pageInfo { hasNextPage endCursor }
  }
  themes { code labelEn }
}"""

NAMED = """
query($id: ID!) {
  network(id: $id) {
    name
    initiatives(first: 20) { title themes { labelNl } grant { decidedAt } network { name } }
  }
}"""


async def _principal(app: FastAPI, networks: Networks, actor: str) -> Principal | None:
    if actor == "anonymous":
        return None
    token = (await networks.world.headers(actor))["Authorization"].split(" ", 1)[1]
    principal: Principal = await app.state.token_verifier.verify(token)
    return principal


async def _run(
    app: FastAPI, schema: strawberry.Schema, principal: Principal | None, query: str, **variables: Any
) -> Any:
    async with app.state.db.sessionmaker() as session:
        context = GraphQLContext(session, principal, app.state.settings)
        result = await schema.execute(query, variable_values=variables, context_value=context)
        await session.rollback()
    errors = [(e.message, e.path) for e in result.errors or ()]
    return result.data, errors


async def _filled(networks: Networks) -> None:
    await networks.initiatives("a", 6, status="idea")
    await networks.initiatives("a", 5, buurt=0)
    await networks.funded("a", 7, status="running")
    await networks.funded("b", 3)


@pytest.mark.parametrize("actor", ["anonymous", "resident", "resident_b"])
async def test_the_fast_paths_answer_exactly_as_graphql_core(
    app: FastAPI, settings: Settings, networks: Networks, actor: str
) -> None:
    await _filled(networks)
    served: strawberry.Schema = app.state.graphql_schema
    assert served.execution_context_class is ExecutionContext
    reference = build_schema(settings, plain_fields=False)
    principal = await _principal(app, networks, actor)
    for query, variables in (
        (WIDE, {"code": networks.buurt_a, "yes": True}),
        (WIDE, {"code": networks.buurt_a, "yes": False}),
        (NAMED, {"id": str(networks.a)}),
    ):
        fast = await _run(app, served, principal, query, **variables)
        slow = await _run(app, reference, principal, query, **variables)
        assert fast == slow
        assert fast[0] is not None and fast[0]["neighbourhood" if query is WIDE else "network"]


@strawberry.type
class Item:
    name: str
    count: int
    tags: list[str]


@strawberry.type
class Box:
    label: str
    item: Item
    items: list[Item]


@strawberry.type
class Root:
    @strawberry.field
    def boxes(self) -> list[Box]:
        good = Item(name="ok", count=1, tags=["a"])
        broken = Item(name=None, count="not a number", tags=["b"])  # type: ignore[arg-type]
        return [
            Box(label="fine", item=good, items=[good]),
            Box(label="bad", item=broken, items=[good, broken]),
        ]


async def test_unusual_values_fall_back_to_graphql_core_with_its_errors() -> None:
    fast = strawberry.Schema(query=Root, execution_context_class=ExecutionContext)
    # Item.name, Item.count, Box.label, Box.item, Box.items (a list of leaves, tags, is left as is)
    assert mark_plain_fields(fast._schema, fast.config.default_resolver) == 5
    slow = strawberry.Schema(query=Root)
    query = "{ boxes { label item { name count tags } items { __typename name count } } }"
    one, other = await fast.execute(query), await slow.execute(query)
    assert one.data == other.data
    assert [(e.message, e.path) for e in one.errors or ()] == [
        (e.message, e.path) for e in other.errors or ()
    ]
    assert one.errors  # the null in a non-null field and the bad Int are reported


async def test_nested_data_is_loaded_per_level_and_only_when_selected(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    await _filled(networks)

    async def count(query: str) -> int:
        with statements(app) as seen:
            body = await networks.gql(client, "anonymous", query, code=networks.buurt_a)
        assert "errors" not in body, body
        return len(seen)

    # the process keeps the theme list (read here once)
    await count("query($code: String!) { neighbourhood(code: $code) { code } themes { code } }")
    bare = await count("query($code: String!) { neighbourhood(code: $code) { initiatives { title } } }")
    # themes, grants and network through a fragment spread: grants once for the whole list; the
    # network and the theme codes come with the initiative's row, the labels from the theme list
    rich = await count(
        "fragment F on Initiative { themes { code } grant { amountCents } network { name } } "
        "query($code: String!) { neighbourhood(code: $code) { initiatives { title ...F } } }"
    )
    assert rich == bare + 1, (bare, rich)


async def test_cached_statements_keep_each_viewer_to_what_it_may_see(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    await networks.initiatives("a", 3, status="idea")
    query = """query($id: ID!) {
      initiatives(filter: {networkId: $id}) { nodes { status initiator { name } } } }"""
    for actor, sees_ideas in (
        ("anonymous", False),
        ("resident", True),
        ("anonymous", False),
        ("resident_b", False),
    ):
        nodes = (await networks.gql(client, actor, query, id=str(networks.a)))["data"]["initiatives"]["nodes"]
        assert any(n["status"] == "IDEA" for n in nodes) is sees_ideas, actor
        assert all((n["initiator"] is not None) is sees_ideas for n in nodes), actor


async def test_edge_cursors_are_made_when_selected_and_page_on(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    await networks.initiatives("a", 5)
    query = """query($id: ID!, $after: String) {
      initiatives(filter: {networkId: $id}, first: 2, after: $after) { edges { cursor node { id } } } }"""
    first = (await networks.gql(client, "anonymous", query, id=str(networks.a)))["data"]["initiatives"][
        "edges"
    ]
    after = first[-1]["cursor"]
    second = (await networks.gql(client, "anonymous", query, id=str(networks.a), after=after))["data"]
    ids = [e["node"]["id"] for e in first + second["initiatives"]["edges"]]
    assert len(ids) == len(set(ids)) == 4


def test_graphql_is_routed_before_the_rest_api(app: FastAPI) -> None:
    first = app.router.routes[0]
    assert any(getattr(r, "path", None) == "/graphql" for r in first.original_router.routes)  # type: ignore[attr-defined]


async def test_json_in_and_out(client: httpx.AsyncClient, networks: Networks) -> None:
    bad = await client.post("/graphql", content=b'{"query": ', headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    await networks.initiatives("a", 1, title="Café Ôntmoeting ☕")
    query = "query($id: ID!) { initiatives(filter: {networkId: $id}) { nodes { title } } }"
    body = await networks.gql(client, "anonymous", query, id=str(networks.a))
    assert body["data"]["initiatives"]["nodes"] == [{"title": "Café Ôntmoeting ☕"}]
