"""The path index (app/web/routing.py) chooses exactly the route the app's own loop over its routes
would choose, for every route's paths and for the paths next to them (a trailing slash, a segment
more or less, an id that is not one, another method), and asks only the routes that could match."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match

from app.main import create_app
from app.settings import Settings
from app.web.routing import PathIndex
from tests.ops.paths import sample_path

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _loop_choice(routes: list[BaseRoute], scope: dict[str, Any]) -> BaseRoute | None:
    """The app's loop: the first route that matches fully (Starlette's ``Router.app``)."""
    return next((route for route in routes if route.matches(dict(scope))[0] is Match.FULL), None)


def _paths(app: FastAPI) -> set[str]:
    paths = {"/", "/api", "/api/v1", "/api/v1/", "/nothing/here", "/wijk", "/wijk/", "/graphql/"}
    for context in iter_route_contexts(app.routes):
        template = context.path_format
        if not isinstance(template, str):
            continue
        path = sample_path(template)
        paths |= {path, path + "/", path + "/extra", path.rsplit("/", 1)[0]}
        paths.add(template.replace("{", "x").replace("}", "x"))  # an id that is not one
    return paths


def _unasked(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) the index hands to a router that has no route for it, or to the app's default
    when no route could take it (see the next test)."""
    index = app.router.routes[0]
    assert isinstance(index, PathIndex)
    for path in sorted(_paths(app)):
        for method in METHODS:
            scope = _scope(method, path)
            match, _ = index.matches(dict(scope))
            if match is Match.FULL and _loop_choice(app.router.routes[1:], scope) is None:
                yield method, path


def test_the_index_chooses_the_route_the_loop_would(app: FastAPI) -> None:
    index = app.router.routes[0]
    assert isinstance(index, PathIndex)
    others = app.router.routes[1:]
    checked = answered = unasked = nowhere = 0
    for path in sorted(_paths(app)):
        for method in METHODS:
            scope = _scope(method, path)
            expected = _loop_choice(others, scope)
            match, child_scope = index.matches(dict(scope))
            checked += 1
            if match is Match.FULL:
                answered += 1
                chosen = child_scope["wijkwerk.routing.chosen"]
                if chosen is None:  # no route could take it: the app's default, 404
                    nowhere += 1
                    assert index.candidates(path) == [], (method, path)
                    assert all(route.matches(dict(scope))[0] is Match.NONE for route in others)
                elif expected is None:  # a 404 or 405: handed unasked to the only router that could
                    unasked += 1
                    assert index.candidates(path) == [chosen], (method, path)
                else:
                    assert chosen is expected, (method, path)
            else:  # left to the loop: nothing matches, or the first match is not a router
                assert match is Match.NONE
                assert expected is None or getattr(expected, "path_format", None) is not None, (method, path)
    assert checked > 1000
    assert answered > 300
    assert unasked > 100
    assert nowhere > 20


async def test_a_router_handed_a_request_unasked_answers_as_the_loop_would(
    migrated: str, settings: Settings
) -> None:
    """The only router that could take a path gets the request without being asked whether it
    matches (it matches when it handles it); when it has no route for it, its 404 or 405 is the one
    the app's loop, without the index, answers: status, Allow, problem body. So is the 404 the index
    answers at once for a path no route could take."""
    indexed = create_app(settings, database_url=migrated)
    looped = create_app(settings, database_url=migrated)
    looped.router.routes.pop(0)  # the index: routed by the app's own loop alone
    cases = list(_unasked(indexed))
    assert len(cases) > 100
    statuses: set[int] = set()
    async with _client(indexed) as by_index, _client(looped) as by_loop:
        for method, path in cases:
            answer = await by_index.request(method, path)
            expected = await by_loop.request(method, path)
            assert _seen(answer) == _seen(expected), (method, path)
            statuses.add(answer.status_code)
    assert statuses == {404, 405}


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _seen(answer: httpx.Response) -> tuple[int, str | None, str | None, dict[str, Any]]:
    body = answer.json()
    body.pop("request_id", None)
    return answer.status_code, answer.headers.get("allow"), answer.headers.get("content-type"), body


def test_a_request_asks_only_the_routers_that_could_take_it(app: FastAPI) -> None:
    index = app.router.routes[0]
    assert isinstance(index, PathIndex)
    household = f"/api/v1/households/{uuid.uuid4()}"
    for path in (f"{household}/overview", f"{household}/contacts", "/api/v1/referrals", "/graphql"):
        index.matches(_scope("GET", path))  # builds the index on first use
        candidates = index.candidates(path)
        assert len(candidates) == 1, (path, candidates)
