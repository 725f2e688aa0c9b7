"""Household members: ``/api/v1/households/{household_id}/members``. The BSN is write-only except for
callers holding ``bsn:read`` (reads only); otherwise a member says ``has_bsn``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from app.api.concurrency import IfMatch, set_etag
from app.api.deps import Requires, Session
from app.api.idempotency import Idempotent
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.api.v1.households_access import CaseRoute, bsn_protector, precondition
from app.domain.households import members
from app.domain.households.schemas import MemberCreate, MemberRead, MemberUpdate
from app.security.scopes import Scope

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=CaseRoute)

BASE = "/households/{household_id}/members"
ITEM = BASE + "/{member_id}"


@router.get(BASE, response_model=list[MemberRead], summary="List the members of a household")
async def list_members(
    request: Request,
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
) -> list[MemberRead]:
    return await members.list_members(session, principal, household_id, bsn_protector(request))


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    response_model=MemberRead,
    responses=problem_responses(409),
    summary="Add a member (Idempotency-Key honoured)",
)
async def create_member(
    request: Request,
    response: Response,
    session: Session,
    principal: Requires(Scope.cases_write),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    body: MemberCreate,
    _: Idempotent,
) -> MemberRead:
    member = await members.create_member(session, principal, household_id, body, bsn_protector(request))
    set_etag(response, member.id, member.version)
    response.headers["Location"] = f"/api/v1/households/{household_id}/members/{member.id}"
    return member


@router.get(ITEM, response_model=MemberRead, summary="Read a member")
async def get_member(
    request: Request,
    response: Response,
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    member_id: uuid.UUID,
) -> MemberRead:
    member = await members.get_member(session, principal, household_id, member_id, bsn_protector(request))
    set_etag(response, member.id, member.version)
    return member


@router.patch(
    ITEM,
    response_model=MemberRead,
    responses=problem_responses(409, 412, 428),
    summary="Update a member (If-Match required; `bsn: null` removes the BSN)",
)
async def update_member(
    request: Request,
    response: Response,
    session: Session,
    principal: Requires(Scope.cases_write),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    body: MemberUpdate,
    if_match: IfMatch = None,
) -> MemberRead:
    member = await members.update_member(
        session, principal, household_id, member_id, body, precondition(if_match), bsn_protector(request)
    )
    set_etag(response, member.id, member.version)
    return member


@router.delete(
    ITEM,
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(409, 412, 428),
    summary="Remove a member (If-Match required)",
)
async def delete_member(
    session: Session,
    principal: Requires(Scope.cases_write),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    await members.delete_member(session, principal, household_id, member_id, precondition(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
