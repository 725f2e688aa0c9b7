"""The privacy officer's view (scope ``audit:read``): the access log, break-glass events and the
subject-access export of everything held on one person."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from app.api.deps import Requires, Session
from app.api.pagination import CursorParam, Limit, Page
from app.api.problems import PROBLEM_RESPONSES
from app.api.v1.households_access import (
    CaseRoute,
    bsn_protector,
    cursor_secret,
    decode_time_cursor,
    encode_time_cursor,
)
from app.domain.audit import service as audit
from app.domain.audit.models import AccessAction, AccessOutcome
from app.domain.audit.schemas import AccessLogEntryRead, AuditFilters, BreakGlassEventRead
from app.domain.households.export import SubjectExport, subject_access_export
from app.domain.households.schemas import Bsn
from app.security.scopes import Scope

router = APIRouter(tags=["audit"], responses=PROBLEM_RESPONSES, route_class=CaseRoute)

Since = Annotated[AwareDatetime | None, Query(alias="from", description="From this moment (inclusive).")]
Until = Annotated[AwareDatetime | None, Query(alias="to", description="Until this moment (exclusive).")]


@router.get(
    "/audit",
    response_model=Page[AccessLogEntryRead],
    summary="Query the access log, newest first",
    description="Filters combine with AND: `person` (member id), `worker`, `household`, `actor` (token "
    "subject), `action`, `outcome`, and the period `from`/`to`.",
)
async def list_access_log(
    request: Request,
    session: Session,
    principal: Requires(Scope.audit_read),  # type: ignore[valid-type]
    person: uuid.UUID | None = None,
    worker: uuid.UUID | None = None,
    household: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=255)] = None,
    action: AccessAction | None = None,
    outcome: AccessOutcome | None = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Page[AccessLogEntryRead]:
    secret = cursor_secret(request)
    filters = AuditFilters(person, worker, household, actor, action, outcome, since, until)
    items = await audit.list_entries(
        session, principal, filters, limit=limit + 1, after=decode_time_cursor(cursor, secret)
    )
    return _page(items, limit, secret, lambda e: e.occurred_at)


@router.get(
    "/audit/break-glass",
    response_model=Page[BreakGlassEventRead],
    summary="Break-glass events, newest first",
)
async def list_break_glass(
    request: Request,
    session: Session,
    principal: Requires(Scope.audit_read),  # type: ignore[valid-type]
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Page[BreakGlassEventRead]:
    secret = cursor_secret(request)
    items = await audit.list_break_glass(
        session,
        principal,
        since=since,
        until=until,
        limit=limit + 1,
        after=decode_time_cursor(cursor, secret),
    )
    return _page(items, limit, secret, lambda e: e.granted_at)


T = TypeVar("T", AccessLogEntryRead, BreakGlassEventRead)


def _page(items: list[T], limit: int, secret: str, moment: Callable[[T], datetime]) -> Page[T]:
    last = items[limit - 1] if len(items) > limit else None
    return Page(
        items=items[:limit], next_cursor=encode_time_cursor(moment(last), last.id, secret) if last else None
    )


class SubjectAccessRequest(BaseModel):
    """The person, by member id or by BSN (in the body, never in a URL)."""

    model_config = ConfigDict(extra="forbid")

    member_id: uuid.UUID | None = None
    bsn: Bsn | None = None

    @model_validator(mode="after")
    def _one(self) -> SubjectAccessRequest:
        if (self.member_id is None) == (self.bsn is None):
            raise PydanticCustomError("subject_criterion", "Give exactly one of member_id or bsn.")
        return self


@router.post(
    "/audit/subject-access",
    response_model=SubjectExport,
    summary="Subject-access export: everything held on one person, plus who accessed it",
)
async def subject_access(
    request: Request,
    session: Session,
    principal: Requires(Scope.audit_read),  # type: ignore[valid-type]
    body: SubjectAccessRequest,
) -> SubjectExport:
    return await subject_access_export(
        session, principal, bsn_protector(request), member_id=body.member_id, bsn=body.bsn
    )
