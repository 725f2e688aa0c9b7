"""Routing in one step whatever the number of routes: an index of the app's routes by the segments of
their paths, so a request is matched only against the routes that could take it.

Starlette (and FastAPI) route a request by trying every route of the app in order until one matches,
and an included router tries each of its routes in turn: a request for the last router's path pays for
a regular expression (and FastAPI's bookkeeping around it) for each route before it, on every request.
``PathIndex`` is placed first among the app's routes. It knows the path templates of every route after
it, split at ``/`` into literal segments, one-segment parameters and a trailing ``{...:path}``; for a
request it walks the index along the request path's segments and asks, in the app's own order, only
the routes whose templates could match. So the route chosen is the one the app's own loop would have
chosen (the first full match; no route that could match is left out), and the order of ``ROUTERS``
is free to follow the contexts.

Only a router (an included router, which records its route itself) is answered through the index;
when the first match is anything else (a mount, a plain route), or when only a route of the wrong
method matches (405), or none (404), the index answers "no match" and the app's loop finds the same
route as it always did. Built on first use and again whenever the app's list of routes changes.

When the only route that could take the path is a router, the index hands the request to it without
asking it first: the router matches the request against its own routes when it handles it, and
asking first made it do that twice. Its answer is the loop's: a route of its own that matches, or
the route that matches all but the method (the loop, finding no full match among the others, would
take the same one, 405), or its ``not_found`` (the app's own default, 404; the app has no
low-priority frontend routes the loop would try before it). And when no route at all could take the
path, the index answers with the app's default (404) at once: the loop would have asked every router
(each asking its routes, ~5,000 function calls for one unknown path, ten times a real request) to
end there. Both only while the app does not redirect slashes (it does not: ``create_app``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound, Router
from starlette.types import Receive, Scope, Send

# The convertors whose values never hold a "/" (starlette.convertors): one path segment each.
_ONE_SEGMENT = frozenset({"str", "int", "float", "uuid"})
_PARAMETER = re.compile(r"{[^}]*}")
_ANY = "{}"  # a segment that is (or holds) a one-segment parameter
_REST = "{...}"  # a "path" parameter or anything not understood: matches whatever follows
_CHOSEN = "wijkwerk.routing.chosen"


def _segments(template: str, *, mounted: bool) -> list[str]:
    """``/api/v1/households/{household_id:uuid}`` -> ``["", "api", "v1", "households", "{}"]``."""
    segments: list[str] = []
    for segment in template.split("/"):
        parameters = _PARAMETER.findall(segment)
        if not parameters:
            segments.append(segment)
            continue
        kinds = {p.strip("{}").partition(":")[2] or "str" for p in parameters}
        if not kinds <= _ONE_SEGMENT:
            return [*segments, _REST]
        segments.append(_ANY)
    return [*segments, _REST] if mounted else segments


def _templates(route: BaseRoute) -> Iterator[list[str]]:
    """The segments of every path ``route`` answers (an included router: each of its routes)."""
    for context in iter_route_contexts([route]):
        path = context.path
        if not isinstance(path, str) or not path.startswith("/"):
            yield [_REST]  # a host route or one without a path: could match anything
            continue
        yield _segments(path, mounted=isinstance(context.original_route, Mount))


class _Node:
    __slots__ = ("ends", "literal", "parameter", "rest")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.parameter: _Node | None = None
        self.ends: set[int] = set()  # routes whose template ends here
        self.rest: set[int] = set()  # routes whose template takes whatever follows

    def add(self, segments: list[str], position: int) -> None:
        node = self
        for segment in segments:
            if segment == _REST:
                node.rest.add(position)
                return
            if segment == _ANY:
                node.parameter = node.parameter or _Node()
                node = node.parameter
            else:
                node = node.literal.setdefault(segment, _Node())
        node.ends.add(position)

    def collect(self, segments: list[str], index: int, found: set[int]) -> None:
        found |= self.rest
        if index == len(segments):
            found |= self.ends
            return
        child = self.literal.get(segments[index])
        if child is not None:
            child.collect(segments, index + 1, found)
        if self.parameter is not None:
            self.parameter.collect(segments, index + 1, found)


class PathIndex(BaseRoute):
    """The first of the app's routes: the route for a request, found through the index (see above)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.routes = router.routes  # the app's own list, this index first
        self._built: list[BaseRoute] = []
        self._routers: set[int] = set()  # positions in _built of included routers
        self._root = _Node()

    def _build(self) -> None:
        built = [route for route in self.routes if route is not self]
        root = _Node()
        routers: set[int] = set()
        for position, route in enumerate(built):
            for segments in _templates(route):
                root.add(segments, position)
            if _is_router(route):
                routers.add(position)
        self._built, self._root, self._routers = built, root, routers

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that could take ``path``, in the app's order."""
        return [self._built[position] for position in self._positions(path)]

    def _positions(self, path: str) -> list[int]:
        if len(self._built) != len(self.routes) - 1:
            self._build()
        found: set[int] = set()
        self._root.collect(path.split("/"), 0, found)
        return sorted(found)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        positions = self._positions(_route_path(scope))
        if not self.router.redirect_slashes:  # else the loop tries a redirect before any 404
            if len(positions) == 1 and positions[0] in self._routers:
                return Match.FULL, {_CHOSEN: self._built[positions[0]]}  # it matches when it handles
            if not positions:
                return Match.FULL, {_CHOSEN: None}  # no route could: the app's default (404)
        for route in [self._built[position] for position in positions]:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                if isinstance(route, Mount) or getattr(route, "path_format", None) is not None:
                    return Match.NONE, {}  # not a router: the app's loop records and calls it
                return Match.FULL, {**child_scope, _CHOSEN: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute | None = scope.pop(_CHOSEN)
        if route is None:
            await self.router.default(scope, receive, send)
            return
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # names no route of its own


def _is_router(route: BaseRoute) -> bool:
    """An included router: the routes it answers are routes of its own, not itself."""
    return any(context.original_route is not route for context in iter_route_contexts([route]))


def _route_path(scope: Scope) -> str:
    """The path routes are matched against (Starlette's ``get_route_path``): without the root path."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    return path[len(root_path) :] if path[len(root_path)] == "/" else path


def route_by_path(app: FastAPI) -> None:
    """Put the index in front of the app's routes (once every route is added: ``create_app``).

    The app's routes are fixed from then on. The index is rebuilt when the app's own list changes
    length, but a route added afterwards to a router that is already included would not be indexed:
    a request for it could be taken by an earlier-indexed route the loop would have tried later, or
    answered 404 at once when no indexed route could take its path (tests/ops/test_path_index.py
    compares the index with the loop for every route of the app). Add routes before ``create_app``
    returns, or to the app itself."""
    app.router.routes.insert(0, PathIndex(app.router))
