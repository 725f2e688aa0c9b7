"""Consents of a household's members: ``/api/v1/households/{household_id}/consents``.

Team members with access to the household record, list, read and withdraw them. Withdrawal takes
effect at once: partners lose sight of referrals shared under the consent and no more webhook events
about them are sent.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from app.api.deps import Requires, Session
from app.api.idempotency import Idempotent
from app.api.pagination import CursorParam, Limit, Page
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.api.v1.households_access import CaseRoute, cursor_secret, decode_time_cursor, encode_time_cursor
from app.auth.scopes import Scope
from app.domain.consents import service
from app.domain.consents.schemas import ConsentCreate, ConsentRead

router = APIRouter(tags=["consents"], responses=PROBLEM_RESPONSES, route_class=CaseRoute)

BASE = "/households/{household_id}/consents"


@router.get(BASE, response_model=Page[ConsentRead], summary="List a household's consents, newest first")
async def list_consents(
    request: Request,
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Page[ConsentRead]:
    secret = cursor_secret(request)
    items = await service.list_consents(
        session, principal, household_id, limit=limit, after=decode_time_cursor(cursor, secret)
    )
    last = items[-1] if len(items) == limit else None
    return Page(
        items=items, next_cursor=encode_time_cursor(last.created_at, last.id, secret) if last else None
    )


@router.post(
    BASE,
    response_model=ConsentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record a member's consent to share data with a partner organisation",
)
async def record_consent(
    session: Session,
    principal: Requires(Scope.cases_write),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    body: ConsentCreate,
    _: Idempotent,
) -> ConsentRead:
    return await service.record(session, principal, household_id, body)


@router.get(BASE + "/{consent_id}", response_model=ConsentRead, summary="Read one consent")
async def get_consent(
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    consent_id: uuid.UUID,
) -> ConsentRead:
    return await service.get(session, principal, household_id, consent_id)


@router.post(
    BASE + "/{consent_id}/withdraw",
    response_model=ConsentRead,
    summary="Withdraw a consent (takes effect at once)",
    responses=problem_responses(409),
)
async def withdraw_consent(
    session: Session,
    principal: Requires(Scope.cases_write),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    consent_id: uuid.UUID,
) -> ConsentRead:
    return await service.withdraw(session, principal, household_id, consent_id)
