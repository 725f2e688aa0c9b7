"""The /graphql routes: the view makes the request's context itself, without FastAPI dependencies."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts


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
