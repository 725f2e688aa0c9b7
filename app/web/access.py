"""What a request is about, for an access-log entry written before any service ran (a refused scope):
the resource and action its route stands for, and the ids in its path."""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from fastapi import Request

from app.domain.unit_of_work.access_log import AccessAction

_ACTION_BY_METHOD = {
    "POST": AccessAction.create,
    "PUT": AccessAction.update,
    "PATCH": AccessAction.update,
    "DELETE": AccessAction.delete,
}


@lru_cache(maxsize=1024)  # a pure function of the route: once per route and method, not per request
def describe(path: str, method: str) -> tuple[str, AccessAction]:
    """(resource, action) of a route, e.g. ``/households/{household_id}/members`` GET -> (member, list)."""
    segments = [s for s in path.split("/") if s]
    literal = [s for s in segments if not s.startswith("{")]
    resource = (literal[-1] if literal else "case").removesuffix("s").replace("-", "_")[:40]
    if method == "GET":
        action = AccessAction.read if segments and segments[-1].startswith("{") else AccessAction.list
        return resource, action
    return resource, _ACTION_BY_METHOD.get(method, AccessAction.read)


def describe_route(request: Request) -> tuple[str, AccessAction]:
    path = getattr(request.scope.get("route"), "path", None)
    # The request's own path only without a route (building ``request.url`` parses the whole URL).
    return describe(path if path is not None else request.url.path, request.method)


def _uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):  # routing's ``uuid`` convertor made it one already
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def path_ids(request: Request) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(household id, the first other object id) named in the request's path, when they are UUIDs."""
    params = request.path_params
    others = [_uuid(v) for k, v in params.items() if k != "household_id" and k.endswith("_id")]
    return _uuid(params.get("household_id")), next((o for o in others if o is not None), None)
