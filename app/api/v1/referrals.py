"""Referrals between the team and partner organisations: ``/api/v1/referrals`` and, from a household,
``/api/v1/households/{household_id}/referrals``.

Partners post referrals in (an ``Idempotency-Key`` is required), follow and answer the ones they
sent or received, and exchange messages; they see only what a referral carries. Team members work
the referrals of their teams and refer household members out.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import TypeAdapter

from app.api.auth import CaseAndReferralReader, CaseAndReferralWriter, ReferralReader, ReferralWriter
from app.api.bsn import Bsn
from app.api.concurrency import set_etag
from app.api.deps import UoW
from app.api.idempotency import (
    Answer,
    IdempotencyKeyRequest,
    Idempotent,
    IdempotentRoute,
    complete_claimed,
    replayed,
)
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.idempotency.service import Replay
from app.domain.referrals import intake, service
from app.domain.referrals.models import Direction, ReferralStatus
from app.domain.referrals.schemas import (
    InboundReferralCreate,
    MessageCreate,
    MessageRead,
    OutboundReferralCreate,
    PartnerReferralRead,
    ReferralRead,
    TransitionCreate,
)
from app.domain.referrals.service import AnyReferralRead, ReferralFilters
from app.web.cursors import PageRequest

router = APIRouter(tags=["referrals"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

ReferralResponse = ReferralRead | PartnerReferralRead
IDEMPOTENCY_KEY = "Idempotency-Key"

Created = tuple[datetime, uuid.UUID]
ReferralPage = Annotated[PageRequest[Created], keyset("referrals", datetime, uuid.UUID)]
MessagePage = Annotated[PageRequest[Created], keyset("referral_messages", datetime, uuid.UUID)]
HouseholdReferralPage = Annotated[PageRequest[Created], keyset("household_referrals", datetime, uuid.UUID)]


@router.post(
    "/referrals",
    response_model=ReferralResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Post a referral to the team (partners; Idempotency-Key required)",
    responses=problem_responses(409),
)
async def post_referral(
    uow: UoW,
    principal: ReferralWriter,
    body: InboundReferralCreate,
    key: IdempotencyKeyRequest,
) -> Response:
    # The answer is made (and stored with the key's claim) before the statement that writes the
    # referral, so it is returned as bytes; ``response_model`` documents it (tests check the match).
    draft = await intake.prepare_inbound(uow, principal, body, key=key)
    if isinstance(draft, Replay):
        raise replayed(uow, principal, draft)
    answer = _created(draft.read)
    outcome = await intake.submit_inbound(uow, principal, draft, answer.to_store())
    if isinstance(outcome, Replay):
        raise replayed(uow, principal, outcome)
    if outcome.replayed:  # the referral this key made before: its answer is stored for the key now
        answer = _created(outcome.read)
        await complete_claimed(uow, draft.key, answer)
    return answer.response(replay=outcome.replayed)


_READ_JSON = TypeAdapter(ReferralResponse)


def _created(read: AnyReferralRead) -> Answer:
    """201 with the referral (as ``response_model`` would serialise it) and its Location."""
    headers = {"content-type": "application/json", "location": f"/api/v1/referrals/{read.id}"}
    return Answer(status.HTTP_201_CREATED, headers, _READ_JSON.dump_json(read))


@router.get("/referrals", response_model=Page[ReferralResponse], summary="List referrals, newest first")
async def list_referrals(
    uow: UoW,
    principal: ReferralReader,
    page: ReferralPage,
    status_: Annotated[ReferralStatus | None, Query(alias="status")] = None,
    direction: Direction | None = None,
) -> Page[ReferralResponse]:
    filters = ReferralFilters(status=status_, direction=direction)
    rows = await service.list_referrals(uow, principal, filters, limit=page.fetch, after=page.after)
    return Page.cut(page, rows, lambda r: (r.created_at, r.id))


@router.get("/referrals/{referral_id:uuid}", response_model=ReferralResponse, summary="Read a referral")
async def get_referral(
    response: Response,
    uow: UoW,
    principal: ReferralReader,
    referral_id: uuid.UUID,
) -> AnyReferralRead:
    read = await service.get(uow, principal, referral_id)
    set_etag(response, read.id, len(read.transitions))  # the version moves with every transition
    return read


@router.post(
    "/referrals/{referral_id:uuid}/transitions",
    response_model=ReferralResponse,
    summary="Move a referral through its lifecycle (accept, decline, start, complete, cancel)",
    responses=problem_responses(409),
)
async def transition_referral(
    uow: UoW,
    principal: ReferralWriter,
    referral_id: uuid.UUID,
    body: TransitionCreate,
    bsn: Bsn,
) -> AnyReferralRead:
    return await service.transition(uow, principal, referral_id, body, protector=bsn)


@router.get(
    "/referrals/{referral_id:uuid}/messages",
    response_model=Page[MessageRead],
    summary="Messages on a referral, oldest first",
)
async def list_messages(
    uow: UoW,
    principal: ReferralReader,
    referral_id: uuid.UUID,
    page: MessagePage,
) -> Page[MessageRead]:
    rows = await service.list_messages(uow, principal, referral_id, limit=page.fetch, after=page.after)
    return Page.cut(page, rows, lambda m: (m.created_at, m.id))


@router.post(
    "/referrals/{referral_id:uuid}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
    summary="Send a short message to the other side of a referral",
)
async def post_message(
    uow: UoW,
    principal: ReferralWriter,
    referral_id: uuid.UUID,
    body: MessageCreate,
    _: Idempotent,
) -> MessageRead:
    return await service.post_message(uow, principal, referral_id, body)


@router.post(
    "/households/{household_id:uuid}/referrals",
    response_model=ReferralRead,
    status_code=status.HTTP_201_CREATED,
    summary="Refer a household member to a partner organisation (needs consent or another legal basis)",
)
async def refer_out(
    request: Request,
    response: Response,
    uow: UoW,
    principal: CaseAndReferralWriter,
    household_id: uuid.UUID,
    body: OutboundReferralCreate,
    _: Idempotent,
) -> AnyReferralRead:
    read, _replayed = await intake.refer_outbound(
        uow, principal, household_id, body, idempotency_key=request.headers.get(IDEMPOTENCY_KEY)
    )
    response.headers["Location"] = f"/api/v1/referrals/{read.id}"
    return read


@router.get(
    "/households/{household_id:uuid}/referrals",
    response_model=Page[ReferralRead],
    summary="A household's referrals (the coordinator keeps the lead)",
)
async def household_referrals(
    uow: UoW,
    principal: CaseAndReferralReader,
    household_id: uuid.UUID,
    page: HouseholdReferralPage,
) -> Page[ReferralResponse]:
    rows = await service.list_for_household(uow, principal, household_id, limit=page.fetch, after=page.after)
    return Page.cut(page, rows, lambda r: (r.created_at, r.id))
