"""Who works on a household and who looked at it: assignments and coordinator handover (team leads,
``cases:assign``), break-glass access to a confidential file of your own team, and the file's own
access log (for a resident's request)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from app.api.concurrency import IfMatch, set_etag
from app.api.deps import Requires, Session
from app.api.idempotency import Idempotent
from app.api.pagination import CursorParam, Limit, Page
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.api.v1.households_access import (
    CaseRoute,
    cursor_secret,
    decode_time_cursor,
    encode_time_cursor,
    precondition,
)
from app.domain.audit.schemas import FileAccessRead
from app.domain.households import team
from app.domain.households.access_log import file_access_log
from app.domain.households.schemas import (
    AssignmentCreate,
    AssignmentRead,
    BreakGlassRead,
    BreakGlassRequest,
    Handover,
    HouseholdRead,
)
from app.security.scopes import Scope

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=CaseRoute)

HOUSEHOLD = "/households/{household_id}"
ASSIGNMENTS = HOUSEHOLD + "/assignments"


@router.get(ASSIGNMENTS, response_model=list[AssignmentRead], summary="Workers assigned to a household")
async def list_assignments(
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
) -> list[AssignmentRead]:
    return await team.list_assignments(session, principal, household_id)


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
    session: Session,
    principal: Requires(Scope.cases_assign),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    body: AssignmentCreate,
    _: Idempotent,
) -> list[AssignmentRead]:
    return await team.assign_worker(session, principal, household_id, body.worker_id)


@router.delete(
    ASSIGNMENTS + "/{worker_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(412, 428),
    summary="Remove an assignment (team leads; If-Match: the household's ETag)",
)
async def unassign_worker(
    session: Session,
    principal: Requires(Scope.cases_assign),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    worker_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    await team.unassign_worker(session, principal, household_id, worker_id, precondition(if_match))
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
    session: Session,
    principal: Requires(Scope.cases_assign),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    body: Handover,
    if_match: IfMatch = None,
) -> HouseholdRead:
    household = await team.hand_over(session, principal, household_id, body, precondition(if_match))
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
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    body: BreakGlassRequest,
    _: Idempotent,
) -> BreakGlassRead:
    return await team.break_glass(session, principal, household_id, body.reason)


@router.get(
    HOUSEHOLD + "/access-log",
    response_model=Page[FileAccessRead],
    summary="Who accessed this household's file, newest first",
    description="For a resident who asks who looked at their file.",
)
async def access_log(
    request: Request,
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Page[FileAccessRead]:
    secret = cursor_secret(request)
    rows = await file_access_log(
        session, principal, household_id, limit=limit + 1, after=decode_time_cursor(cursor, secret)
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(
        items=[entry for _, entry in rows[:limit]],
        next_cursor=encode_time_cursor(last[1].occurred_at, last[0], secret) if last else None,
    )
