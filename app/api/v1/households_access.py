"""The route class of case-file routers: idempotent POSTs, plus an access-log row for scope denials.

Object denials are logged by ``get_visible`` (404, outcome ``denied``). A token without the case scopes
never gets that far — the scope check refuses it first (403) — so ``CaseRoute`` writes that denial
too: one row per refused request, outcome ``denied``, with the household id from the path when the
route has one. Use it for every router that serves case data::

    router = APIRouter(route_class=CaseRoute, ...)

(``CaseRoute`` is an ``IdempotentRoute``; add ``_: Idempotent`` to POSTs as described in
``app/api/idempotency.py``.) Unauthenticated requests (no, expired or forged token) are not written:
there is no verified caller to record, and an unauthenticated client must not be able to grow the
append-only log; they are counted by the request metrics instead. Nor are requests the schema
rejects (422 before any lookup): they never reached case data. Everything that does — allowed,
denied, or allowed but refused by a rule (``failed``) — leaves exactly one row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import Request, Response

from app.api.concurrency import check_version, expected_version
from app.api.idempotency import IdempotentRoute
from app.api.pagination import cursor_secret as cursor_secret  # re-exported for the case routers
from app.api.pagination import decode_cursor, encode_cursor
from app.domain.audit import service as audit
from app.domain.audit.models import AccessAction, AccessOutcome
from app.domain.errors import FieldError, ValidationFailed
from app.domain.households.bsn import BsnProtector, protector
from app.security.errors import InsufficientScope
from app.security.principal import Principal

_ACTION_BY_METHOD = {
    "POST": AccessAction.create,
    "PUT": AccessAction.update,
    "PATCH": AccessAction.update,
    "DELETE": AccessAction.delete,
}


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def describe(path: str, method: str) -> tuple[str, AccessAction]:
    """(resource, action) of a route, e.g. ``/households/{household_id}/members`` GET -> (member, list)."""
    segments = [s for s in path.split("/") if s]
    literal = [s for s in segments if not s.startswith("{")]
    resource = (literal[-1] if literal else "case").removesuffix("s").replace("-", "_")[:40]
    if method == "GET":
        action = AccessAction.read if segments and segments[-1].startswith("{") else AccessAction.list
        return resource, action
    return resource, _ACTION_BY_METHOD.get(method, AccessAction.read)


async def log_scope_denial(request: Request, path: str) -> None:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        return
    resource, action = describe(path, request.method)
    params = request.path_params
    household_id = _uuid(params.get("household_id"))
    others = [_uuid(v) for k, v in params.items() if k != "household_id" and k.endswith("_id")]
    async with request.app.state.db.transaction() as session:
        session.info[audit.REQUEST_ID] = getattr(request.state, "request_id", None)
        audit.record(
            session,
            principal,
            resource=resource,
            action=action,
            outcome=AccessOutcome.denied,
            household_id=household_id,
            resource_id=next((o for o in others if o is not None), None),
        )
        await audit.write(session, audit.take_pending(session))


class CaseRoute(IdempotentRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        path = self.path

        async def case_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except InsufficientScope:
                await log_scope_denial(request, path)
                raise

        return case_handler


# -- small helpers shared by the case-file routers ----------------------------------------------


def precondition(if_match: str | None) -> Callable[[uuid.UUID, int], None]:
    """The If-Match check, run by the service after the access check (so a hidden household is 404
    whatever headers were sent): 428 when absent, 412 when stale."""

    def check(object_id: uuid.UUID, current: int) -> None:
        check_version(expected_version(if_match, object_id), current)

    return check


def bsn_protector(request: Request) -> BsnProtector:
    return protector(request.app.state.settings)


def decode_time_cursor(cursor: str | None, secret: str) -> tuple[datetime, uuid.UUID] | None:
    """A list cursor of (timestamp, id), as written by ``encode_time_cursor``."""
    key = decode_cursor(cursor, secret)
    if key is None:
        return None
    try:
        moment, object_id = key
        return datetime.fromisoformat(moment), uuid.UUID(object_id)
    except (ValueError, TypeError):
        raise ValidationFailed(
            [FieldError(("query", "cursor"), "The cursor is not valid.", "cursor_invalid")]
        ) from None


def encode_time_cursor(moment: datetime, object_id: uuid.UUID, secret: str) -> str:
    return encode_cursor([moment.isoformat(), str(object_id)], secret)
