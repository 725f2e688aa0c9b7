"""The privacy officer's view (scope ``audit:read``): the access log, break-glass events and the
subject-access export of everything held on one person."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from app.api.auth import AuditReader
from app.api.bsn import Bsn
from app.api.deps import UoW
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES
from app.domain.audit import service as audit
from app.domain.audit.export import SubjectExport, subject_access_export
from app.domain.audit.schemas import AccessLogEntryRead, AuditFilters, BreakGlassEventRead
from app.domain.households.schemas import Bsn as BsnNumber
from app.domain.inputs import AwareIsoDatetime
from app.domain.text import SingleLine
from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome
from app.web.cursors import PageRequest
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["audit"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)

Since = Annotated[AwareIsoDatetime | None, Query(alias="from", description="From this moment (inclusive).")]
Until = Annotated[AwareIsoDatetime | None, Query(alias="to", description="Until this moment (exclusive).")]
LogPage = Annotated[PageRequest[tuple[datetime, uuid.UUID]], keyset("access_log", datetime, uuid.UUID)]
BreakGlassPage = Annotated[
    PageRequest[tuple[datetime, uuid.UUID]], keyset("break_glass", datetime, uuid.UUID)
]


@router.get(
    "/audit",
    response_model=Page[AccessLogEntryRead],
    summary="Query the access log, newest first",
    description="Filters combine with AND: `person` (member id), `worker`, `household`, `actor` (token "
    "subject), `action`, `outcome`, and the period `from`/`to`.",
)
async def list_access_log(
    uow: UoW,
    principal: AuditReader,
    page: LogPage,
    person: uuid.UUID | None = None,
    worker: uuid.UUID | None = None,
    household: uuid.UUID | None = None,
    actor: Annotated[SingleLine | None, Query(max_length=255)] = None,
    action: AccessAction | None = None,
    outcome: AccessOutcome | None = None,
    since: Since = None,
    until: Until = None,
) -> Page[AccessLogEntryRead]:
    filters = AuditFilters(person, worker, household, actor, action, outcome, since, until)
    items = await audit.list_entries(uow, principal, filters, limit=page.fetch, after=page.after)
    return Page.cut(page, items, lambda e: (e.occurred_at, e.id))


@router.get(
    "/audit/break-glass",
    response_model=Page[BreakGlassEventRead],
    summary="Break-glass events, newest first",
)
async def list_break_glass(
    uow: UoW, principal: AuditReader, page: BreakGlassPage, since: Since = None, until: Until = None
) -> Page[BreakGlassEventRead]:
    items = await audit.list_break_glass(
        uow, principal, since=since, until=until, limit=page.fetch, after=page.after
    )
    return Page.cut(page, items, lambda e: (e.granted_at, e.id))


class SubjectAccessRequest(BaseModel):
    """The person, by member id or by BSN (in the body, never in a URL)."""

    model_config = ConfigDict(extra="forbid")

    member_id: uuid.UUID | None = None
    bsn: BsnNumber | None = None

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
    uow: UoW, principal: AuditReader, body: SubjectAccessRequest, bsn: Bsn
) -> SubjectExport:
    return await subject_access_export(uow, principal, bsn, member_id=body.member_id, bsn=body.bsn)
