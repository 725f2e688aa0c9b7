"""The coordinator's side of self-service: ``/api/v1/households/{household_id}/self-service``.

The team sees who in a household can use self-service; the household's coordinator or a team lead
switches it on or off (for the household, or one member) and hands a member a one-time activation
code for the built-in sign-in. An activation code is answered once and never stored in the clear:
that route takes no Idempotency-Key (a stored answer would keep the code) and answers ``no-store``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.auth import CaseReader, CaseWriter
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.self_service import management
from app.domain.self_service.rules import CodeHasher
from app.domain.self_service.schemas import ActivationCodeIssued, HouseholdSelfService, SelfServiceSwitch
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["self-service"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)
codes = APIRouter(tags=["self-service"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)

BASE = "/households/{household_id:uuid}/self-service"
MEMBER = "/households/{household_id:uuid}/members/{member_id:uuid}/self-service"


async def _hasher(request: Request) -> CodeHasher:
    return CodeHasher(request.app.state.settings.secret("secret_key"))


Hasher = Annotated[CodeHasher, Depends(_hasher)]


@router.get(BASE, response_model=HouseholdSelfService, summary="Who in the household can use self-service")
async def self_service_status(
    uow: UoW, principal: CaseReader, household_id: uuid.UUID
) -> HouseholdSelfService:
    return await management.status(uow, principal, household_id)


@router.post(
    BASE + "/switch",
    response_model=HouseholdSelfService,
    summary="Switch self-service on or off for the whole household (coordinator or team lead)",
    description="Off takes effect at once: members' next requests are refused, their app sessions "
    "and pending activation codes end. null returns to the default (on unless confidential).",
)
async def switch_household(
    uow: UoW, principal: CaseWriter, household_id: uuid.UUID, body: SelfServiceSwitch, _: Idempotent
) -> HouseholdSelfService:
    return await management.switch_household(uow, principal, household_id, body.enabled)


@router.post(
    MEMBER + "/switch",
    response_model=HouseholdSelfService,
    summary="Switch self-service on or off for one member (coordinator or team lead)",
    description="E.g. off for an ex-partner who must not see new data. null returns to the default "
    "(on for adults, off for children).",
)
async def switch_member(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    body: SelfServiceSwitch,
    _: Idempotent,
) -> HouseholdSelfService:
    return await management.switch_member(uow, principal, household_id, member_id, body.enabled)


@codes.post(
    MEMBER + "/activation-codes",
    response_model=ActivationCodeIssued,
    status_code=status.HTTP_201_CREATED,
    summary="A one-time activation code for the member's sign-in (shown once; coordinator or team lead)",
    description="The member sets their password with it at /oauth/activate. A new code replaces an "
    "unused earlier one; it expires after settings.self_service_activation_hours.",
    responses=problem_responses(409),
)
async def activation_code(
    request: Request,
    response: Response,
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    hasher: Hasher,
) -> ActivationCodeIssued:
    response.headers["Cache-Control"] = "no-store"
    valid_for = timedelta(hours=request.app.state.settings.self_service_activation_hours)
    return await management.issue_activation_code(uow, principal, household_id, member_id, hasher, valid_for)
