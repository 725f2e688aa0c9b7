"""Self-service for household members: ``/api/v1/me`` (scopes ``self:read``, ``self:write``).

A household member, signed in with DigiD through the municipality (or the built-in sign-in in
development), sees their own data, their household's plan, their consents and who accessed their
data, downloads their subject-access export, withdraws a consent, agrees to the plan and adds their
own view to an evaluation of it. Nothing
here takes the id of a household or member: every answer is about the member the sign-in is bound
to, and only while their coordinator keeps self-service on (otherwise 404).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.api.auth import SelfReader, SelfWriter
from app.api.bsn import Bsn
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.api.v1.plans import Policy
from app.domain.plans.schemas import MemberViewRead
from app.domain.self_service import service
from app.domain.self_service.schemas import (
    AccessView,
    ConsentView,
    MeRead,
    OwnExport,
    PlanView,
    YourViewCreate,
)
from app.web.cursors import PageRequest

router = APIRouter(tags=["self-service"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

ConsentPage = Annotated[PageRequest[tuple[datetime, uuid.UUID]], keyset("self_consents", datetime, uuid.UUID)]
AccessPage = Annotated[
    PageRequest[tuple[datetime, uuid.UUID]], keyset("self_access_log", datetime, uuid.UUID)
]
NO_STORE = {"Cache-Control": "no-store"}


async def _worker_names(request: Request) -> bool:
    return bool(request.app.state.settings.self_service_worker_names)


WorkerNames = Annotated[bool, Depends(_worker_names)]


@router.get("/me", response_model=MeRead, summary="Your own member data and your household")
async def me(uow: UoW, principal: SelfReader) -> MeRead:
    return await service.me(uow, principal)


@router.get(
    "/me/plan",
    response_model=PlanView,
    summary="Your household's plan: goals, actions, who does what, evaluation date",
    description="The ETag names the version: send it as If-Match when you agree to the plan.",
)
async def plan(uow: UoW, principal: SelfReader, response: Response) -> PlanView:
    found = await service.plan(uow, principal)
    set_etag(response, found.id, found.version)
    return found


@router.post(
    "/me/plan/agreement",
    response_model=PlanView,
    summary="Agree to your household's plan (If-Match: the version you read)",
    responses=problem_responses(409, 412, 428),
)
async def agree(
    uow: UoW,
    principal: SelfWriter,
    response: Response,
    policy: Policy,
    _: Idempotent,
    if_match: IfMatch = None,
) -> PlanView:
    agreed = await service.agree(uow, principal, expected_version(if_match), policy)
    set_etag(response, agreed.id, agreed.version)
    return agreed


@router.post(
    "/me/plan/evaluations/{evaluation_id:uuid}/views",
    response_model=MemberViewRead,
    status_code=201,
    summary="Add your own view to an evaluation of your household's plan (once per evaluation)",
    description="Your view is kept beside your household's view as the team recorded it, never over "
    "it; the team sees it with the evaluation, you see it in your plan (`your_view`). A second view on "
    "the same evaluation is refused (409 `evaluation_view_exists`).",
    responses=problem_responses(409),
)
async def add_view(
    uow: UoW, principal: SelfWriter, evaluation_id: uuid.UUID, body: YourViewCreate, _: Idempotent
) -> MemberViewRead:
    return await service.add_view(uow, principal, evaluation_id, body)


@router.get("/me/consents", response_model=Page[ConsentView], summary="The consents you gave, newest first")
async def consents(uow: UoW, principal: SelfReader, page: ConsentPage) -> Page[ConsentView]:
    rows = await service.list_consents(uow, principal, limit=page.fetch, after=page.after)
    return Page.cut(page, rows, lambda c: (c.created_at, c.id))


@router.post(
    "/me/consents/{consent_id:uuid}/withdraw",
    response_model=ConsentView,
    summary="Withdraw a consent (takes effect at once)",
    responses=problem_responses(409),
)
async def withdraw(uow: UoW, principal: SelfWriter, consent_id: uuid.UUID, _: Idempotent) -> ConsentView:
    return await service.withdraw_consent(uow, principal, consent_id)


@router.get(
    "/me/access-log",
    response_model=Page[AccessView],
    summary="Who accessed your data and your household's file, newest first",
    description="In plain words: when, who (a name or a role, as the municipality chose), from which "
    "organisation, what they did with which part of the file, for what, and break-glass access with "
    "its stated reason. Your own visits are not listed.",
)
async def access_log(
    uow: UoW, principal: SelfReader, page: AccessPage, worker_names: WorkerNames
) -> Page[AccessView]:
    rows = await service.access_log(
        uow, principal, worker_names=worker_names, limit=page.fetch, after=page.after
    )
    return Page.cut(page, rows, lambda e: (e.occurred_at, e.id))


@router.get(
    "/me/export",
    response_model=OwnExport,
    summary="Everything held on you, plus who accessed it (your subject-access export, JSON)",
)
async def export(
    uow: UoW, principal: SelfReader, bsn: Bsn, worker_names: WorkerNames, response: Response
) -> OwnExport:
    response.headers.update(NO_STORE)
    return await service.export(uow, principal, bsn, worker_names=worker_names)
