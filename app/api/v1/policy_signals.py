"""Policy signals: ``/api/v1/policy-signals`` (docs/policy-signals.md).

Team members write drafts for their team; a team lead submits one (bundling similar submitted
signals of other teams into it); the municipality's policy staff take, answer and close submitted
signals. Changes take ``If-Match`` with the ETag read. Which signals a caller reads, and which step
they may take, is decided by ``app.domain.signals``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.api.auth import SignalAnswerer, SignalReader, SignalWriter
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.signals import service
from app.domain.signals.models import SignalStatus
from app.domain.signals.schemas import SignalCreate, SignalDecision, SignalRead, SignalSubmit, SignalUpdate
from app.domain.signals.service import SignalFilters
from app.domain.stats.disclosure import Policy
from app.domain.stats.service import policy_from
from app.web.cursors import PageRequest

router = APIRouter(tags=["policy-signals"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

Created = tuple[datetime, uuid.UUID]
SignalPage = Annotated[PageRequest[Created], keyset("policy_signals", datetime, uuid.UUID)]
BASE = "/policy-signals"
CHANGES = problem_responses(409, 412, 428)


def disclosure_policy(request: Request) -> Policy:
    """The statistics' disclosure policy: counts of linked households are published under it."""
    return policy_from(request.app.state.settings)


Disclosure = Annotated[Policy, Depends(disclosure_policy)]


def _tagged(response: Response, read: SignalRead) -> SignalRead:
    set_etag(response, read.id, read.version)
    return read


@router.post(
    BASE,
    response_model=SignalRead,
    status_code=status.HTTP_201_CREATED,
    summary="Write a draft policy signal for your team (no personal data; Idempotency-Key for retries)",
)
async def create_signal(
    response: Response,
    uow: UoW,
    principal: SignalWriter,
    body: SignalCreate,
    policy: Disclosure,
    _: Idempotent,
) -> SignalRead:
    read = await service.create(uow, principal, body, policy)
    response.headers["Location"] = f"/api/v1{BASE}/{read.id}"
    return _tagged(response, read)


@router.get(
    BASE, response_model=Page[SignalRead], summary="List the policy signals you may read, newest first"
)
async def list_signals(
    uow: UoW,
    principal: SignalReader,
    page: SignalPage,
    policy: Disclosure,
    status_: Annotated[SignalStatus | None, Query(alias="status")] = None,
    theme: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]+$")] = None,
    own_team: Annotated[bool, Query(description="Only your own team's signals.")] = False,
) -> Page[SignalRead]:
    filters = SignalFilters(status=status_, theme=theme, own_team_only=own_team)
    rows = await service.list_signals(uow, principal, filters, policy, limit=page.fetch, after=page.after)
    return Page.cut(page, rows, lambda r: (r.created_at, r.id))


@router.get(f"{BASE}/{{signal_id:uuid}}", response_model=SignalRead, summary="Read a policy signal")
async def get_signal(
    response: Response, uow: UoW, principal: SignalReader, signal_id: uuid.UUID, policy: Disclosure
) -> SignalRead:
    return _tagged(response, await service.get(uow, principal, signal_id, policy))


@router.patch(
    f"{BASE}/{{signal_id:uuid}}",
    response_model=SignalRead,
    summary="Change a draft of your team (If-Match required)",
    responses=CHANGES,
)
async def update_signal(
    response: Response,
    uow: UoW,
    principal: SignalWriter,
    signal_id: uuid.UUID,
    body: SignalUpdate,
    policy: Disclosure,
    if_match: IfMatch = None,
) -> SignalRead:
    read = await service.update(uow, principal, signal_id, body, expected_version(if_match), policy)
    return _tagged(response, read)


@router.post(
    f"{BASE}/{{signal_id:uuid}}/submit",
    response_model=SignalRead,
    summary="Submit a draft to the team leads' meeting and the policy staff (team leads; If-Match)",
    responses=CHANGES,
)
async def submit_signal(
    response: Response,
    uow: UoW,
    principal: SignalWriter,
    signal_id: uuid.UUID,
    body: SignalSubmit,
    policy: Disclosure,
    if_match: IfMatch = None,
) -> SignalRead:
    read = await service.submit(uow, principal, signal_id, body, expected_version(if_match), policy)
    return _tagged(response, read)


@router.post(
    f"{BASE}/{{signal_id:uuid}}/decisions",
    response_model=SignalRead,
    summary="Take, answer or close a submitted signal (policy staff; If-Match)",
    responses=CHANGES,
)
async def decide_signal(
    response: Response,
    uow: UoW,
    principal: SignalAnswerer,
    signal_id: uuid.UUID,
    body: SignalDecision,
    policy: Disclosure,
    if_match: IfMatch = None,
) -> SignalRead:
    read = await service.decide(uow, principal, signal_id, body, expected_version(if_match), policy)
    return _tagged(response, read)
