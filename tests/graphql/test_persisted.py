"""Persisted queries (Apollo's APQ convention) by POST and GET, and the anonymous allowlist."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.graphql.persisted import allowlist, sha256
from app.main import create_app
from app.settings import Settings
from tests.factories import World
from tests.initiatives.factories import Networks

THEMES = "query Themes { themes { code labelNl } }"
DASHBOARD = (Path(__file__).parents[2] / "app/graphql/persisted/neighbourhood_dashboard.graphql").read_text()


def persisted(document: str | None = None, digest: str | None = None) -> dict[str, Any]:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest or sha256(document or "")}}
    return {"extensions": extensions}


async def post(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def get(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    params = {name: value if isinstance(value, str) else json.dumps(value) for name, value in body.items()}
    return await client.get("/graphql", params=params, headers=headers)


def code_of(answer: dict[str, Any]) -> str:
    [error] = answer["errors"]
    code: str = error["extensions"]["code"]
    return code


async def test_an_unknown_hash_asks_for_the_text_which_registers_it(client: httpx.AsyncClient) -> None:
    document = THEMES + f" # {secrets.token_hex(8)}"  # a hash no other test registered
    first = await post(client, persisted(document))
    assert first == {
        "data": None,
        "errors": [
            {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
        ],
    }
    with_text = await post(client, {"query": document, **persisted(document)})
    assert {"debts", "loneliness"} <= {t["code"] for t in with_text["data"]["themes"]}
    assert await post(client, persisted(document)) == with_text
    by_get = await get(client, persisted(document))
    assert by_get.status_code == 200 and by_get.json() == with_text


async def test_a_text_that_does_not_match_its_hash_runs_nothing(client: httpx.AsyncClient) -> None:
    answer = await post(client, {"query": THEMES, **persisted(digest="0" * 64)})
    assert answer["data"] is None and code_of(answer) == "BAD_USER_INPUT"
    assert "sha256Hash" in answer["errors"][0]["message"]
    for wrong in ({"version": 2, "sha256Hash": sha256(THEMES)}, {"version": 1, "sha256Hash": "ABC"}, "x"):
        answer = await post(client, {"query": THEMES, "extensions": {"persistedQuery": wrong}})
        assert answer["data"] is None and code_of(answer) == "BAD_USER_INPUT", wrong


async def test_the_front_ends_documents_run_by_hash_without_registering(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    await networks.initiatives("a", 2)
    code = networks.world.buurten[0].code
    answer = await get(client, {"variables": {"code": code}, **persisted(DASHBOARD)})
    assert answer.status_code == 200
    assert len(answer.json()["data"]["neighbourhood"]["initiatives"]) == 2


async def test_a_get_never_runs_a_mutation(client: httpx.AsyncClient, world: World) -> None:
    mutation = "mutation { createInitiative(input: {}) { __typename } }"
    for actor in ("anonymous", "network_coordinator"):
        response = await client.get(
            "/graphql", params={"query": mutation}, headers=await world.headers(actor)
        )
        assert response.status_code in (400, 405) and "data" not in response.text, actor


def test_the_allowlist_hashes_each_documents_exact_text(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text("query A { themes { code } }\n")
    (tmp_path / "b.graphql").write_text("query B { themes { labelNl } }")
    (tmp_path / "notes.txt").write_text("query C { themes { code } }")
    assert allowlist(tmp_path) == {
        sha256("query A { themes { code } }\n"): "query A { themes { code } }\n",
        sha256("query B { themes { labelNl } }"): "query B { themes { labelNl } }",
    }
    assert sha256(DASHBOARD) in allowlist()


@pytest.fixture(scope="module")
async def persisted_only(migrated: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app that accepts only the front-end's documents from anonymous callers (production's)."""
    configured = settings.model_copy(update={"graphql_persisted_only": True})
    application = create_app(configured, database_url=migrated)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_persisted_only_refuses_anonymous_ad_hoc_queries(
    persisted_only: httpx.AsyncClient, app: FastAPI
) -> None:
    document = THEMES + f" # {secrets.token_hex(8)}"
    for body in ({"query": THEMES}, {"query": document, **persisted(document)}):
        answer = await post(persisted_only, body)
        assert answer["data"] is None and code_of(answer) == "PERSISTED_QUERY_REQUIRED", body
        by_get = (await get(persisted_only, body)).json()
        assert by_get["data"] is None and code_of(by_get) == "PERSISTED_QUERY_REQUIRED", body
    # What the attempt sent was not registered either.
    assert code_of(await post(persisted_only, persisted(document))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_persisted_only_runs_the_front_ends_documents(persisted_only: httpx.AsyncClient) -> None:
    variables = {"code": "BU00000000"}
    by_hash = await post(persisted_only, {"variables": variables, **persisted(DASHBOARD)})
    assert by_hash == {"data": {"neighbourhood": None}}
    by_text = await post(persisted_only, {"query": DASHBOARD, "variables": variables})
    assert by_text == by_hash
    by_get = await get(persisted_only, {"variables": variables, **persisted(DASHBOARD)})
    assert by_get.status_code == 200 and by_get.json() == by_hash


async def test_persisted_only_leaves_signed_in_callers_free(
    persisted_only: httpx.AsyncClient, world: World
) -> None:
    for actor in ("generalist_a", "partner_a", "analyst", "resident"):
        headers = await world.headers(actor)
        answer = await post(persisted_only, {"query": THEMES}, **headers)
        assert answer["data"]["themes"], actor
        document = THEMES + f" # {secrets.token_hex(8)}"
        assert (await post(persisted_only, {"query": document, **persisted(document)}, **headers))["data"]
        assert (await post(persisted_only, persisted(document), **headers))["data"], actor


async def test_a_query_a_signed_in_caller_ran_is_still_refused_to_anonymous_callers(
    persisted_only: httpx.AsyncClient, world: World
) -> None:
    # Its plan answers repeats whole (app.graphql.compiled.CompiledAnswers), but not before the
    # persisted-only rule has looked at who asks.
    document = "{ initiatives(first: 2) { nodes { id } } }" + f" # {secrets.token_hex(8)}"
    headers = await world.headers("generalist_a")
    for _ in range(2):
        assert "errors" not in await post(persisted_only, {"query": document}, **headers)
    answer = await post(persisted_only, {"query": document})
    assert answer["data"] is None and code_of(answer) == "PERSISTED_QUERY_REQUIRED"
