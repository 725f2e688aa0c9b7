"""The /graphql routes: the view makes the request's context itself, without FastAPI dependencies."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from strawberry.fastapi import GraphQLRouter


def _graphql_routes(app: FastAPI) -> list[RouteContext]:
    return [context for context in iter_route_contexts(app.routes) if context.path == "/graphql"]


def test_the_graphql_routes_solve_no_dependencies_per_request(app: FastAPI) -> None:
    # Strawberry's own routes took the context, the root value and a sub-response as dependencies:
    # four dependency solves per request, a quarter of a repeated list query's function calls.
    found = [context.original_route for context in _graphql_routes(app)]
    routes = [route for route in found if isinstance(route, APIRoute)]
    assert routes == found, found  # no WebSocket route either
    assert sorted(method for route in routes for method in route.methods or ()) == ["GET", "POST"]
    for route in routes:
        assert route.dependant.dependencies == [], route.dependant.dependencies


async def test_a_query_is_answered_alike_by_get_and_post(client: httpx.AsyncClient) -> None:
    query = "{ themes { code } }"
    posted = await client.post("/graphql", json={"query": query})
    got = await client.get("/graphql", params={"query": query})
    assert posted.status_code == got.status_code == 200
    assert posted.json() == got.json() and "errors" not in posted.json()
    assert posted.json()["data"]["themes"]
    for response in (posted, got):  # the sub-response adds no second, empty body's length
        assert response.headers.get_list("content-length") == [str(len(response.content))]


async def test_a_json_post_is_read_without_strawberrys_general_parse_and_answered_alike(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Strawberry's parse reads the Content-Type through the email package and scans the headers
    # for a streaming transport on every request; a plain JSON POST needs neither.
    general: list[str | None] = []
    strawberrys = GraphQLRouter.parse_http_body

    async def parse(self: Any, request: Any) -> Any:
        general.append(request.content_type)
        return await strawberrys(self, request)

    monkeypatch.setattr(GraphQLRouter, "parse_http_body", parse)
    body = orjson.dumps(
        {"query": "query Q($n: Int!) { neighbourhoods(first: $n) { code } }", "variables": {"n": 1}}
    )
    plain = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    charset = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert plain.status_code == charset.status_code == 200
    assert plain.json() == charset.json() and "errors" not in plain.json()
    assert general == ["application/json; charset=utf-8"]


async def test_what_strawberry_refuses_is_refused_as_before(client: httpx.AsyncClient) -> None:
    query = "{ themes { code } }"
    refused = {
        "[]": "Batching is not enabled",
        orjson.dumps([{"query": query}]).decode(): "Batching is not enabled",
        "{": "Unable to parse request body as JSON",
        orjson.dumps({"query": 1}).decode(): "The GraphQL operation's `query` must be a string or null",
        orjson.dumps({"query": query, "variables": [1]}).decode(): "`variables` must be an object or null",
        orjson.dumps({"query": query, "extensions": "x"}).decode(): "`extensions` must be an object or null",
    }
    for body, reason in refused.items():
        response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, (body, response.text)
        assert reason in response.text, (body, response.text)


async def test_an_operation_name_that_is_not_a_string_is_refused_as_strawberry_refuses_it(
    client: httpx.AsyncClient,
) -> None:
    # Neither Strawberry's parse nor ours checks operationName's type; a list or an object once
    # reached the compiled answers' lookup (a dict key: unhashable) and gave a 500.
    queries = ["{ themes { code } }", "query Q { neighbourhoods(first: 1) { code } }", "{ nope }"]
    for query in queries:
        for name in (["a"], {"a": 1}, 5, True):
            body = orjson.dumps({"query": query, "operationName": name})
            for content_type in ("application/json", "application/json; charset=utf-8"):
                response = await client.post("/graphql", content=body, headers={"content-type": content_type})
                assert response.status_code == 400, (query, name, content_type, response.text)
                assert "operationName names no operation of the document." in response.text, response.text
        # A query string carries text only: what a client meant as a list is a name no operation has.
        got = await client.get("/graphql", params={"query": query, "operationName": '["a"]'})
        assert got.status_code == 400, (query, got.text)
        assert "operationName names no operation of the document." in got.text, got.text
