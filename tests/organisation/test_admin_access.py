"""Only administrators reach the organisation routes, and the admin scope reaches nothing else."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.api.v1 import organisation
from tests.factories import World
from tests.organisation.support import NOT_ADMINS, send


def _scopes(dependant: Dependant) -> set[str]:
    found = set(dependant.own_oauth_scopes or [])
    for sub in dependant.dependencies:
        found |= _scopes(sub)
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def _requests(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    return [
        (method, prefix + _concrete(route.path))
        for route in routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]


ORGANISATION_REQUESTS = _requests(organisation.router.routes, "/api/v1")


def test_every_organisation_route_needs_the_admin_scope() -> None:
    routes = [r for r in organisation.router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 25
    assert all(_scopes(r.dependant) == {"admin"} for r in routes)


async def test_other_roles_are_refused_everywhere(client: httpx.AsyncClient, world: World) -> None:
    for actor in NOT_ADMINS:
        headers = await world.headers(actor)
        for method, path in ORGANISATION_REQUESTS:
            response = await send(client, method, path, headers)
            assert response.status_code == 403, (actor, method, path, response.text)
            assert response.headers["content-type"] == "application/problem+json"


async def test_anonymous_callers_are_refused_everywhere(client: httpx.AsyncClient) -> None:
    for method, path in ORGANISATION_REQUESTS:
        response = await send(client, method, path, {})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_admin_scope_opens_no_other_route(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    """Administrators read no case data: every scoped route outside organisation set-up refuses them."""
    headers = await world.headers("admin")
    others = [
        r
        for r in app.routes
        if isinstance(r, APIRoute) and _scopes(r.dependant) and "admin" not in _scopes(r.dependant)
    ]
    for method, path in _requests(others):
        response = await send(client, method, path, headers)
        assert response.status_code == 403, (method, path, response.status_code)


async def test_admin_gets_404_for_objects_that_do_not_exist(client: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("admin")
    for method, path in ORGANISATION_REQUESTS:
        if method == "GET" and path.count("/") == 4:
            response = await client.get(path, headers=headers)
            assert response.status_code == 404, path
            assert response.json()["type"] == "urn:wijkwerk:problem:not_found"
