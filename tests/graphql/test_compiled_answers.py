"""A repeated query that compiled whole is answered by its plan before Strawberry's operation runs
(``app.graphql.compiled.CompiledAnswers``): the same answers and errors as its first run, for every
caller, each with their own visibility; whatever a caller may not run still goes the whole way."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.graphql.compiled_queries import ACTORS, FIXED, PERSISTED, filled, variables_for
from tests.initiatives.factories import Networks

DASHBOARD = (PERSISTED / "neighbourhood_dashboard.graphql").read_text()


async def answer_of(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await client.post("/graphql", json=body, headers=headers)
    return response.status_code, response.json()


def counting_operations(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The operations that went the whole way (Strawberry's ``Schema.execute``), by query text."""
    schema = app.state.graphql_schema
    whole = type(schema).execute
    seen: list[str | None] = []

    async def execute(query: str | None, *args: Any, **kwargs: Any) -> Any:
        seen.append(query)
        return await whole(schema, query, *args, **kwargs)

    monkeypatch.setattr(schema, "execute", execute)
    return seen


async def test_a_repeat_answers_as_the_first_time_for_every_caller(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks, monkeypatch: pytest.MonkeyPatch
) -> None:
    await filled(networks)
    variables = variables_for(networks)
    headers = {actor: await networks.world.headers(actor) for actor in ACTORS}
    whole = counting_operations(app, monkeypatch)
    for query in FIXED:
        body = {"query": query, "variables": {n: v for n, v in variables.items() if f"${n}" in query}}
        # Every caller once, then every caller again: a plan checked for one caller answers the
        # others with their own visibility (members see their ideas, others do not).
        first = {actor: await answer_of(client, body, headers[actor]) for actor in ACTORS}
        before = len(whole)
        again = {actor: await answer_of(client, body, headers[actor]) for actor in ACTORS}
        assert again == first, query
        if query == DASHBOARD:  # it compiles whole: the repeats took the short way, every caller
            assert len(whole) == before


async def test_a_repeat_with_other_variables_or_operation_goes_the_whole_way(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks, monkeypatch: pytest.MonkeyPatch
) -> None:
    await filled(networks)
    whole = counting_operations(app, monkeypatch)
    for code in (networks.buurt_a, networks.buurt_b, networks.buurt_a, networks.buurt_b):
        status, answer = await answer_of(client, {"query": DASHBOARD, "variables": {"code": code}}, {})
        assert status == 200 and answer["data"]["neighbourhood"]["code"] == code
    assert len(whole) == 2  # once per set of variables
    # An argument rule refuses the first time and every time after (nothing is kept for it).
    refused = {"query": "query($n: Int!) { initiatives(first: $n) { nodes { id } } }", "variables": {"n": -1}}
    answers = [await answer_of(client, refused, {}) for _ in range(3)]
    assert answers[0][1]["data"] is None and answers[0][1]["errors"], answers[0]
    assert answers[1:] == answers[:1] * 2 and len(whole) == 5


async def test_a_repeat_during_an_outage_tries_its_statement_once_before_the_503(
    app: FastAPI,
    client: httpx.AsyncClient,
    networks: Networks,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await filled(networks)
    body = {"query": DASHBOARD, "variables": {"code": networks.buurt_a}}
    assert (await answer_of(client, body, {}))[0] == 200  # checked: a repeat takes the short way
    tried: list[str] = []

    async def unreachable(statement: Any, values: Any) -> Any:
        tried.append(statement.sql)
        raise ConnectionRefusedError("the database is down")

    monkeypatch.setattr(app.state.db, "fetch_one", unreachable)
    with caplog.at_level(logging.INFO, logger="app.graphql"):
        response = await client.post("/graphql", json=body)
    # Before, the whole way tried the statement again (another wait for the pool or a connection).
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0, response.text
    assert response.json()["type"] == "urn:wijkwerk:problem:service_unavailable"
    assert len(tried) == 1
    # Logged as the whole way logs an outage: one WARNING line with the operation's own name (the
    # body names none; Strawberry's execution context gives the document's: "Dashboard").
    records = [r for r in caplog.records if r.name == "app.graphql"]
    logged = [(r.levelname, r.getMessage(), getattr(r, "operation", None)) for r in records]
    assert logged == [("WARNING", "database unavailable", "Dashboard")], logged
