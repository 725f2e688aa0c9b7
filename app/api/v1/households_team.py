"""Team-level access to a household: assignments and coordinator handover (team leads), break-glass
access to a confidential household of one's own team, and the file's own access log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status

from app.api.auth import CaseAssigner, CaseReader
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.audit import service as audit
from app.domain.audit.schemas import FileAccessRead
from app.domain.households import team
from app.domain.households.schemas import (
    AssignmentCreate,
    AssignmentRead,
    BreakGlassGrantRead,
    BreakGlassRead,
    BreakGlassRequest,
    Handover,
    HouseholdRead,
)
from app.web.cursors import PageRequest

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

HOUSEHOLD = "/households/{household_id:uuid}"
ASSIGNMENTS = HOUSEHOLD + "/assignments"
AssignmentPage = Annotated[
    PageRequest[tuple[datetime, uuid.UUID]], keyset("assignments", datetime, uuid.UUID)
]
AccessLogPage = Annotated[
    PageRequest[tuple[datetime, uuid.UUID]], keyset("file_access_log", datetime, uuid.UUID)
]


@router.get(ASSIGNMENTS, response_model=Page[AssignmentRead], summary="Workers assigned to a household")
async def list_assignments(
    uow: UoW, principal: CaseReader, household_id: uuid.UUID, page: AssignmentPage
) -> Page[AssignmentRead]:
    items = await team.list_assignments(uow, principal, household_id, limit=page.fetch, after=page.after)
    return Page.cut(page, items, lambda a: (a.assigned_at, a.worker_id))


@router.post(
    ASSIGNMENTS,
    status_code=status.HTTP_201_CREATED,
    response_model=list[AssignmentRead],
    responses=problem_responses(409),
    summary="Assign a worker of the team (team leads)",
    description="Assigned workers see the household even when it is confidential. Adding someone "
    "already assigned changes nothing. Answers the assignments after the change.",
)
async def assign_worker(
    uow: UoW,
    principal: CaseAssigner,
    household_id: uuid.UUID,
    body: AssignmentCreate,
    _: Idempotent,
) -> list[AssignmentRead]:
    return await team.assign_worker(uow, principal, household_id, body.worker_id)


@router.delete(
    ASSIGNMENTS + "/{worker_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(412, 428),
    summary="Remove an assignment (team leads; If-Match: the household's ETag)",
)
async def unassign_worker(
    uow: UoW,
    principal: CaseAssigner,
    household_id: uuid.UUID,
    worker_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    await team.unassign_worker(uow, principal, household_id, worker_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    HOUSEHOLD + "/coordinator",
    response_model=HouseholdRead,
    responses=problem_responses(409, 412, 428),
    summary="Hand over to a new coordinator (team leads; If-Match: the household's ETag)",
    description="Give `team_id` to hand the household to another team (e.g. after a move); the old "
    "team's phones then drop it at their next sync.",
)
async def hand_over(
    response: Response,
    uow: UoW,
    principal: CaseAssigner,
    household_id: uuid.UUID,
    body: Handover,
    if_match: IfMatch = None,
) -> HouseholdRead:
    household = await team.hand_over(uow, principal, household_id, body, expected_version(if_match))
    set_etag(response, household.id, household.version)
    return household


@router.post(
    HOUSEHOLD + "/break-glass",
    status_code=status.HTTP_201_CREATED,
    response_model=BreakGlassRead,
    responses=problem_responses(409),
    summary="Open a confidential household of your team in an emergency",
    description="For a worker of the household's own team who is not involved: grants access for "
    "four hours. The reason is logged and reported to the privacy officer.",
)
async def break_glass(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    body: BreakGlassRequest,
    _: Idempotent,
) -> BreakGlassRead:
    return await team.break_glass(uow, principal, household_id, body.reason)


GRANT = HOUSEHOLD + "/break-glass/{grant_id:uuid}"


@router.get(
    GRANT,
    response_model=BreakGlassGrantRead,
    summary="A use of break-glass access in your team, with its reason (team leads)",
    description="For the team lead's review (the worklist lists the uses not reviewed yet). The "
    "household's file is not opened by this.",
)
async def read_break_glass(
    uow: UoW, principal: CaseAssigner, household_id: uuid.UUID, grant_id: uuid.UUID
) -> BreakGlassGrantRead:
    return await team.read_break_glass(uow, principal, household_id, grant_id)


@router.post(
    GRANT + "/review",
    response_model=BreakGlassGrantRead,
    summary="Mark a use of break-glass access as reviewed (team leads)",
    description="It leaves the worklist. Another lead reviews your own use; a second review changes nothing.",
)
async def review_break_glass(
    uow: UoW, principal: CaseAssigner, household_id: uuid.UUID, grant_id: uuid.UUID
) -> BreakGlassGrantRead:
    return await team.review_break_glass(uow, principal, household_id, grant_id)


@router.get(
    HOUSEHOLD + "/access-log",
    response_model=Page[FileAccessRead],
    summary="Who accessed this household's file, newest first",
    description="For a resident who asks who looked at their file.",
)
async def access_log(
    uow: UoW, principal: CaseReader, household_id: uuid.UUID, page: AccessLogPage
) -> Page[FileAccessRead]:
    rows = await audit.file_access_log(uow, principal, household_id, limit=page.fetch, after=page.after)
    items, following = page.cut(rows, lambda r: (r[1].occurred_at, r[0]))
    return Page(items=[entry for _, entry in items], next_cursor=following)
