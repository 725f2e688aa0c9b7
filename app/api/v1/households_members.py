"""Household members: ``/api/v1/households/{household_id}/members``. The BSN is write-only except for
callers holding ``bsn:read`` (reads only); otherwise a member says ``has_bsn``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status

from app.api.auth import CaseReader, CaseWriter
from app.api.bsn import Bsn
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.households import members
from app.domain.households.schemas import MemberCreate, MemberRead, MemberUpdate
from app.web.cursors import PageRequest

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

BASE = "/households/{household_id:uuid}/members"
ITEM = BASE + "/{member_id:uuid}"

MemberPage = Annotated[PageRequest[tuple[datetime, uuid.UUID]], keyset("members", datetime, uuid.UUID)]


@router.get(
    BASE, response_model=Page[MemberRead], summary="List the members of a household, in the order added"
)
async def list_members(
    uow: UoW, principal: CaseReader, household_id: uuid.UUID, bsn: Bsn, page: MemberPage
) -> Page[MemberRead]:
    found = await members.list_members(uow, principal, household_id, bsn, limit=page.fetch, after=page.after)
    return Page.cut(page, found, lambda m: (m.created_at, m.id))


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    response_model=MemberRead,
    responses=problem_responses(409),
    summary="Add a member (Idempotency-Key honoured)",
)
async def create_member(
    response: Response,
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    body: MemberCreate,
    bsn: Bsn,
    _: Idempotent,
) -> MemberRead:
    member = await members.create_member(uow, principal, household_id, body, bsn)
    set_etag(response, member.id, member.version)
    response.headers["Location"] = f"/api/v1/households/{household_id}/members/{member.id}"
    return member


@router.get(ITEM, response_model=MemberRead, summary="Read a member")
async def get_member(
    response: Response,
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    bsn: Bsn,
) -> MemberRead:
    member = await members.get_member(uow, principal, household_id, member_id, bsn)
    set_etag(response, member.id, member.version)
    return member


@router.patch(
    ITEM,
    response_model=MemberRead,
    responses=problem_responses(409, 412, 428),
    summary="Update a member (If-Match required; `bsn: null` removes the BSN)",
)
async def update_member(
    response: Response,
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    body: MemberUpdate,
    bsn: Bsn,
    if_match: IfMatch = None,
) -> MemberRead:
    member = await members.update_member(
        uow, principal, household_id, member_id, body, expected_version(if_match), bsn
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
    uow: UoW, principal: CaseWriter, household_id: uuid.UUID, member_id: uuid.UUID, if_match: IfMatch = None
) -> Response:
    await members.delete_member(uow, principal, household_id, member_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
