"""Consents of a household's members: ``/api/v1/households/{household_id}/consents``.

Team members with access to the household record, list, read and withdraw them. Withdrawal takes
effect at once: partners lose sight of referrals shared under the consent and no more webhook events
about them are sent.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.api.auth import CaseReader, CaseWriter
from app.api.deps import Session
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.api.v1.case_helpers import TimeCursorPage
from app.domain.consents import service
from app.domain.consents.schemas import ConsentCreate, ConsentRead

router = APIRouter(tags=["consents"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

BASE = "/households/{household_id}/consents"


@router.get(BASE, response_model=Page[ConsentRead], summary="List a household's consents, newest first")
async def list_consents(
    session: Session,
    principal: CaseReader,
    household_id: uuid.UUID,
    page: TimeCursorPage,
) -> Page[ConsentRead]:
    items = await service.list_consents(session, principal, household_id, limit=page.limit, after=page.after)
    return page.of(items)


@router.post(
    BASE,
    response_model=ConsentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record a member's consent to share data with a partner organisation",
)
async def record_consent(
    session: Session,
    principal: CaseWriter,
    household_id: uuid.UUID,
    body: ConsentCreate,
    _: Idempotent,
) -> ConsentRead:
    return await service.record(session, principal, household_id, body)


@router.get(BASE + "/{consent_id}", response_model=ConsentRead, summary="Read one consent")
async def get_consent(
    session: Session,
    principal: CaseReader,
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
    principal: CaseWriter,
    household_id: uuid.UUID,
    consent_id: uuid.UUID,
) -> ConsentRead:
    return await service.withdraw(session, principal, household_id, consent_id)
