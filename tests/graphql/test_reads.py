"""How GraphQL reads: nested data per level and only when selected (through fragments, aliases and
directives too), each viewer kept to what it may see, queries without a transaction and mutations in
theirs, and the HTTP details (routing first, JSON in and out)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.graphql.documents import PROPOSE, proposal
from tests.initiatives.factories import Networks
from tests.support.statements import counting_statements

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


async def _filled(networks: Networks) -> None:
    await networks.initiatives("a", 6, status="idea")
    await networks.initiatives("a", 5, buurt=0)
    await networks.funded("a", 7, status="running")
    await networks.funded("b", 3)


@pytest.mark.parametrize("actor", ["anonymous", "resident", "resident_b"])
async def test_fragments_aliases_and_directives_reach_the_nested_data(
    client: httpx.AsyncClient, networks: Networks, actor: str
) -> None:
    """The nested data loaded for a whole list follows the selection through fragments, inline
    fragments, aliases and @skip/@include: nothing selected is missing."""
    await _filled(networks)
    for yes in (True, False):
        body = await networks.gql(client, actor, WIDE, code=networks.buurt_a, yes=yes)
        assert "errors" not in body, body
        initiatives = body["data"]["neighbourhood"]["initiatives"]
        assert initiatives and all(i["again"] == i["id"] and i["network"]["name"] for i in initiatives)
        assert all(i["themes"] and set(i["themes"][0]) == {"code", "c"} for i in initiatives)
        assert any(i["grant"] and i["grant"]["__typename"] == "Grant" for i in initiatives)
        assert set(initiatives[0]["neighbourhood"]) == ({"code", "wijkCode"} if yes else {"code", "name"})
        connection = body["data"]["initiatives"]
        assert connection["edges"] and all(e["cursor"] and e["node"]["themes"] for e in connection["edges"])
        assert all(n["network"]["area"] for n in connection["nodes"])
    named = (await networks.gql(client, actor, NAMED, id=str(networks.a)))["data"]["network"]
    assert named["initiatives"] and all(i["network"] == {"name": named["name"]} for i in named["initiatives"])


async def test_nested_data_is_loaded_per_level_and_only_when_selected(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    await _filled(networks)

    async def count(query: str) -> int:
        with counting_statements(app.state.db) as seen:
            body = await networks.gql(client, "anonymous", query, code=networks.buurt_a)
        assert "errors" not in body, body
        return len(seen)

    # the process keeps the theme list (read here once)
    await count("query($code: String!) { neighbourhood(code: $code) { code } themes { code } }")
    # On the resolver path (``report`` has no SQL mapping, app.graphql.compiled): themes, grants and
    # network through a fragment spread cost one statement more, grants once for the whole list; the
    # network and the theme codes come with the initiative's row, the labels from the theme list
    bare = await count(
        "query($code: String!) { neighbourhood(code: $code) { initiatives { title report } } }"
    )
    rich = await count(
        "fragment F on Initiative { themes { code } grant { amountCents } network { name } } "
        "query($code: String!) { neighbourhood(code: $code) { initiatives { title report ...F } } }"
    )
    assert rich == bare + 1, (bare, rich)
    # Compiled, the same shapes without ``report`` are one statement each, whatever they select.
    compiled = [
        await count("query($code: String!) { neighbourhood(code: $code) { initiatives { title } } }"),
        await count(
            "fragment F on Initiative { themes { code } grant { amountCents } network { name } } "
            "query($code: String!) { neighbourhood(code: $code) { initiatives { title ...F } } }"
        ),
    ]
    assert compiled == [1, 1], compiled


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


async def test_json_in_and_out(client: httpx.AsyncClient, networks: Networks) -> None:
    bad = await client.post("/graphql", content=b'{"query": ', headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    await networks.initiatives("a", 1, title="Café Ôntmoeting ☕")
    query = "query($id: ID!) { initiatives(filter: {networkId: $id}) { nodes { title } } }"
    body = await networks.gql(client, "anonymous", query, id=str(networks.a))
    assert body["data"]["initiatives"]["nodes"] == [{"title": "Café Ôntmoeting ☕"}]


LIST = """query($code: String!) {
  initiatives(filter: {neighbourhood: $code}) { nodes { title status themes { code } grant { decision } } }
}"""


async def test_a_query_reads_without_a_transaction_and_a_mutation_writes_in_one(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    await networks.initiatives("a", 3)
    for actor in ("anonymous", "resident"):
        with counting_statements(app.state.db) as statements:
            body = await networks.gql(client, actor, LIST, code=networks.buurt_a)
        assert "errors" not in body, body
        assert len(body["data"]["initiatives"]["nodes"]) == 3
        reads = statements.autocommit  # per statement: did its connection run without a transaction?
        assert reads and all(reads), (actor, reads)
    # The connections went back to the pool with their isolation level reset: a mutation right
    # after the queries runs every statement in its transaction.
    with counting_statements(app.state.db) as statements:
        body = await networks.gql(client, "resident", PROPOSE, input=proposal(networks))
    assert body["data"]["proposeInitiative"]["__typename"] == "Initiative", body
    writes = statements.autocommit
    assert writes and not any(writes), writes
