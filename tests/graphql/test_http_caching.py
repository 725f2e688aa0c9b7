"""HTTP caching of anonymous GETs: public answers with a strong ETag, 304s, and a server-side copy
that the next request after a write of public data no longer serves (in any process)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from app.db import Database, RawStatement
from app.domain.stats import rollups
from app.domain.unit_of_work.public_data import PUBLIC_TABLES, current_version
from app.settings import Settings
from app.web.answer_cache import AnswerCache
from tests.factories import World
from tests.graphql.documents import DECIDE
from tests.initiatives.factories import Networks, make_networks
from tests.self_service.support import member_headers
from tests.support.statements import counting_statements

BUURT = """query($code: String!) { neighbourhood(code: $code) {
  initiatives(first: 50) { id title status grant { decision amountCents } } } }"""
SIGNED_IN = ("generalist_a", "generalist_b", "partner_a", "analyst", "resident", "resident_b", "admin")


YEAR_PLANS = """query($id: ID!) { network(id: $id) { yearPlans { year budgetCents } } }"""


def params(query: str, **variables: Any) -> dict[str, str]:
    return {"query": query, "variables": json.dumps(variables)}


async def test_an_anonymous_get_is_public_with_a_strong_etag_and_304s(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    await networks.initiatives("a", 2)
    query = params(BUURT, code=networks.buurt_a)
    first = await client.get("/graphql", params=query)
    assert first.status_code == 200 and len(first.json()["data"]["neighbourhood"]["initiatives"]) == 2
    assert first.headers["cache-control"] == "public, max-age=10"
    assert first.headers["vary"] == "Authorization"
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    for if_none_match in (etag, f'"other", W/{etag}', "*"):
        again = await client.get("/graphql", params=query, headers={"If-None-Match": if_none_match})
        assert again.status_code == 304 and again.content == b"", if_none_match
        assert again.headers["etag"] == etag and again.headers["cache-control"] == "public, max-age=10"
    other = await client.get("/graphql", params=query, headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.content == first.content


async def test_answers_that_depend_on_the_caller_are_never_public(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    """Network A's idea is seen by its member only: neither the anonymous copy nor anybody's answer
    crosses over, whoever asks first, and no signed-in answer may be kept by a shared cache."""
    world = networks.world
    [idea] = await networks.initiatives("a", 1, status="idea")
    query = params(BUURT, code=networks.buurt_a)
    anonymous = await client.get("/graphql", params=query)
    assert anonymous.json()["data"]["neighbourhood"]["initiatives"] == []
    callers = {actor: await world.headers(actor) for actor in SIGNED_IN}
    callers["household_member"] = await member_headers(world)
    for actor, headers in callers.items():
        answer = await client.get("/graphql", params=query, headers=headers)
        assert answer.status_code == 200, actor
        ids = [i["id"] for i in answer.json()["data"]["neighbourhood"]["initiatives"]]
        assert ids == ([str(idea)] if actor == "resident" else []), actor
        assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers, actor
    again = await client.get("/graphql", params=query)
    assert again.content == anonymous.content
    posted = await client.post("/graphql", json={"query": BUURT, "variables": {"code": networks.buurt_a}})
    assert posted.headers["cache-control"] == "no-store" and "etag" not in posted.headers


async def test_answers_with_errors_are_not_public(client: httpx.AsyncClient) -> None:
    for query in ("{ nothing }", "query($code: String!) { neighbourhood(code: $code) { code } }"):
        answer = await client.get("/graphql", params={"query": query})
        assert answer.status_code == 200 and answer.json()["errors"], query
        assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers


async def test_a_kept_answer_costs_one_statement_until_public_data_changes(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    [first] = await networks.initiatives("a", 1)
    query = params(BUURT, code=networks.buurt_a)
    computed = await client.get("/graphql", params=query)
    with counting_statements(app.state.db) as seen:
        kept = await client.get("/graphql", params=query)
    assert kept.content == computed.content and kept.headers["etag"] == computed.headers["etag"]
    assert len(seen) == 1 and "public_data_versions" in seen[0]

    # A new initiative (written straight into the database, as another process would) shows at once.
    [second] = await networks.initiatives("a", 1)
    fresh = await client.get("/graphql", params=query, headers={"If-None-Match": computed.headers["etag"]})
    assert fresh.status_code == 200 and fresh.headers["etag"] != computed.headers["etag"]
    ids = {i["id"] for i in fresh.json()["data"]["neighbourhood"]["initiatives"]}
    assert ids == {str(first), str(second)}

    # A grant decided through the API shows on the next request too.
    headers = await networks.world.headers("network_coordinator")
    decision = (await networks.meeting()).decision("GRANTED", 25_000)
    decided = await client.post(
        "/graphql",
        json={"query": DECIDE, "variables": {"id": str(first), "v": 1, "input": decision}},
        headers=headers,
    )
    assert decided.json()["data"]["decideGrant"]["status"] == "GRANTED"
    granted = await client.get("/graphql", params=query)
    grants = {i["id"]: i["grant"] for i in granted.json()["data"]["neighbourhood"]["initiatives"]}
    assert grants == {str(first): {"decision": "GRANTED", "amountCents": 25_000}, str(second): None}


async def test_every_committed_public_write_raises_the_version_once(app: FastAPI, world: World) -> None:
    db = app.state.db
    before = await current_version(db)
    networks = await _networks(world)  # several statements in several transactions
    made = await current_version(db)
    assert made > before
    async with db.transaction() as session:  # one transaction, many rows of two tables
        await session.execute(
            text("UPDATE initiatives SET title = title || '!' WHERE network_id = :n"), {"n": networks.a}
        )
        await session.execute(
            text("UPDATE resident_networks SET name = name || '!' WHERE id = :n"), {"n": networks.a}
        )
    assert await current_version(db) == made + 1
    async with db.sessionmaker() as session:  # rolled back: nothing changed, nothing raised
        await session.execute(
            text("UPDATE resident_networks SET name = 'x' WHERE id = :n"), {"n": networks.a}
        )
        await session.rollback()
    assert await current_version(db) == made + 1
    async with db.transaction() as session:  # the statistics rollups fire no triggers: refresh raises it
        await rollups.refresh(session)
    assert await current_version(db) == made + 2


async def _networks(world: World) -> Networks:
    networks = await make_networks(world)
    await networks.initiatives("a", 3)
    return networks


async def test_the_kept_answers_are_bounded(db: Database, settings: Settings) -> None:
    """The least recently used answer goes when the count (or the weight) is over the limit."""
    answers = AnswerCache(entries=2, lifetime=settings.graphql_answer_cache_seconds, max_age=10)
    computed: list[str] = []

    async def ask(key: str) -> Response:
        async def compute() -> tuple[Response, bool]:
            computed.append(key)
            return Response(b'{"data": {}}', media_type="application/json"), False

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/graphql",
            "query_string": key.encode(),
            "headers": [],
        }
        request = Request({**scope, "scheme": "http", "server": ("test", 80)})
        return await answers.answer(request, db, compute)

    for key in ("a=1", "b=1", "a=1", "c=1", "a=1", "b=1"):
        answer = await ask(key)
        assert answer.status_code == 200 and answer.headers["cache-control"].startswith("public")
    assert computed == ["a=1", "b=1", "c=1", "b=1"]  # b went when c came (a was used more recently)


async def test_every_public_table_raises_the_version(app: FastAPI) -> None:
    """Each table an anonymous dashboard reads carries the trigger, so no kept answer outlives its data."""
    rows = await app.state.db.fetch_all(
        RawStatement.of(
            text(
                "SELECT c.relname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
                "WHERE t.tgname = 'public_data_changed'"
            )
        ),
        {},
    )
    assert set(PUBLIC_TABLES) <= {row[0] for row in rows}


async def test_a_year_plans_budget_change_shows_on_the_next_request(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    query = params(YEAR_PLANS, id=str(networks.a))
    before = await client.get("/graphql", params=query)
    async with app.state.db.transaction() as session:  # as another process would
        await session.execute(
            text("UPDATE year_plans SET budget_cents = budget_cents + 100 WHERE network_id = :n"),
            {"n": networks.a},
        )
    after = await client.get("/graphql", params=query, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    budgets = [p["budgetCents"] for p in before.json()["data"]["network"]["yearPlans"]]
    assert [p["budgetCents"] for p in after.json()["data"]["network"]["yearPlans"]] == [
        b + 100 for b in budgets
    ]
