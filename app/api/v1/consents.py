"""Consents of a household's members: ``/api/v1/households/{household_id}/consents``.

Team members with access to the household record, list, read and withdraw them. Withdrawal takes
effect at once: partners lose sight of referrals shared under the consent and no more webhook events
about them are sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status

from app.api.auth import CaseReader, CaseWriter
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.consents import service
from app.domain.consents.schemas import ConsentCreate, ConsentRead
from app.web.cursors import PageRequest

router = APIRouter(tags=["consents"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

BASE = "/households/{household_id:uuid}/consents"
ConsentPage = Annotated[PageRequest[tuple[datetime, uuid.UUID]], keyset("consents", datetime, uuid.UUID)]


@router.get(BASE, response_model=Page[ConsentRead], summary="List a household's consents, newest first")
async def list_consents(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    page: ConsentPage,
) -> Page[ConsentRead]:
    rows = await service.list_consents(uow, principal, household_id, limit=page.fetch, after=page.after)
    return Page.cut(page, rows, lambda c: (c.created_at, c.id))


@router.post(
    BASE,
    response_model=ConsentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record a member's consent to share data with a partner organisation",
)
async def record_consent(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    body: ConsentCreate,
    _: Idempotent,
) -> ConsentRead:
    return await service.record(uow, principal, household_id, body)


@router.get(BASE + "/{consent_id:uuid}", response_model=ConsentRead, summary="Read one consent")
async def get_consent(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    consent_id: uuid.UUID,
) -> ConsentRead:
    return await service.get(uow, principal, household_id, consent_id)


@router.post(
    BASE + "/{consent_id:uuid}/withdraw",
    response_model=ConsentRead,
    summary="Withdraw a consent (takes effect at once)",
    responses=problem_responses(409),
)
async def withdraw_consent(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    consent_id: uuid.UUID,
) -> ConsentRead:
    return await service.withdraw(uow, principal, household_id, consent_id)
