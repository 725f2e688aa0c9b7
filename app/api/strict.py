"""What a REST request may carry beyond its operation's own parameters: nothing.

``refuse_undeclared_input(request)`` refuses:

* a query parameter the operation does not declare: 422, ``errors[].rule`` ``unknown_parameter``
  (a misspelt filter must not silently widen an answer, e.g. ``/audit?household_id=`` would list
  the whole log);
* a body in a media type the operation does not take: 415 with ``Accept-Post`` / ``Accept-Patch``
  (``Accept`` for other methods) naming the one it takes, instead of pydantic's "Input should be a
  valid dictionary" about the bytes it was handed.

It runs once the caller is known, like the operation's own validation: the caller dependencies of
``app.api.deps`` call it after the token and scope checks (so a refused scope is still a 401/403,
and still in the access log, whatever else the request holds), and ``StrictRequest`` is the same
check as a router dependency for the REST routes without a caller (health). The OAuth endpoints do
not take it: RFC 6749 §3.1 has an authorization server ignore parameters it does not know, and they
answer errors in RFC 6749's own format.

``allowed_methods`` says which methods a path has over every route of the app, for the ``Allow``
header of a 405 (routing stops at the first route whose path matches).
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Iterator
from functools import lru_cache

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.params import Body
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

# A key that reads like a parameter name is named in the answer; anything else (free text a client
# put in the query string) is not echoed back.
_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")
_ACCEPT_HEADER = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}


def _query_names(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameters the route's operation declares (its own and its dependencies')."""
    return frozenset(_query_names(route.dependant))


def body_media_type(route: APIRoute) -> str | None:
    """The media type of the route's request body (None when it takes none)."""
    field = route.body_field
    if field is None or not isinstance(field.field_info, Body):
        return None
    return field.field_info.media_type


@lru_cache(maxsize=256)  # clients send few distinct values; parsing one costs more than the check
def is_json(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json``, parameters aside (as FastAPI parses it)."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _refuse_unknown_query(request: Request, route: APIRoute) -> None:
    unknown = sorted(set(request.query_params) - declared_query(route))
    if not unknown:
        return
    errors = [
        {
            "type": "unknown_parameter",
            "loc": ("query", name) if _NAME.match(name) else ("query",),
            "msg": "This operation takes no such query parameter.",
        }
        for name in unknown
    ]
    raise RequestValidationError(errors)


async def _refuse_other_media(request: Request, route: APIRoute) -> None:
    accepted = body_media_type(route)
    if accepted != "application/json":
        return  # no body, or a form (parsed by FastAPI as such)
    content_type = request.headers.get("content-type")
    if content_type is None:
        if not await request.body():
            return  # no body at all: the operation's own validation says what is missing
    elif is_json(content_type):
        return
    header = _ACCEPT_HEADER.get(request.method, "Accept")
    raise StarletteHTTPException(415, f"Send the request body as {accepted}.", headers={header: accepted})


async def refuse_undeclared_input(request: Request) -> None:
    """422 for an undeclared query parameter, 415 for a body that is not the operation's media type."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    if request.scope.get("query_string"):
        _refuse_unknown_query(request, route)
    if request.method in ("POST", "PUT", "PATCH"):
        await _refuse_other_media(request, route)


StrictRequest = Depends(refuse_undeclared_input)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on the request's path (HEAD with GET)."""
    found: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        methods = context.methods
        if not methods:
            continue
        match, _ = context.matches(request.scope)
        if match is not Match.NONE:
            found |= set(methods)
    if "GET" in found:
        found.add("HEAD")
    return sorted(found)
