"""Walk every route of an app and say which scopes each one enforces (for the deny-by-default test)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, WebSocketRoute

from app.api.deps import caller, logged_caller
from app.web.routing import PathIndex

MOUNT = "*"
WEBSOCKET = "WEBSOCKET"


@dataclass(frozen=True)
class Endpoint:
    method: str  # an HTTP method, WEBSOCKET, or * for a mounted app
    path: str
    scopes: frozenset[str]  # scopes enforced through app.api.deps.caller (or logged_caller)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


_CHECKS = (caller, logged_caller)


def _is_require(dependant: Dependant) -> bool:
    call = dependant.call
    return call in _CHECKS or getattr(call, "__wrapped__", None) in _CHECKS


def enforced_scopes(dependant: Dependant | None) -> frozenset[str]:
    """Scopes of every scope check (``caller``, ``logged_caller``) in the tree: those are checked against
    the token."""
    if dependant is None:
        return frozenset()
    found: set[str] = set()
    if _is_require(dependant):
        found |= set(dependant.own_oauth_scopes or []) | set(dependant.parent_oauth_scopes or [])
    for sub in dependant.dependencies:
        found |= enforced_scopes(sub)
    return frozenset(found)


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    """Every (method, path) the app answers, included routers flattened, with its enforced scopes."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, PathIndex):
            continue  # finds the route for a request among those that follow; answers nothing itself
        if isinstance(route, Mount):
            yield Endpoint(MOUNT, str(context.path or route.path), frozenset())
            continue
        # The template as documented: without convertors (``{household_id:uuid}`` -> ``{household_id}``).
        path = str(context.path_format or context.path or getattr(route, "path", ""))
        scopes = enforced_scopes(getattr(context, "dependant", None))
        methods = context.methods
        if isinstance(route, WebSocketRoute) or not methods:
            yield Endpoint(WEBSOCKET, path, scopes)
            continue
        for method in sorted(methods):
            if method == "HEAD" and "GET" in methods:
                continue  # answered by the GET handler
            yield Endpoint(method, path, scopes)


def unsecured(app: FastAPI, public: frozenset[tuple[str, str]]) -> list[Endpoint]:
    """Endpoints that enforce no scope and are not on the public list."""
    return [e for e in endpoints(app) if not e.scopes and e.key not in public]


def resolve(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/responses/NotFound``) to what it names."""
    while "$ref" in item:
        target: Any = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        item = target
    return item
