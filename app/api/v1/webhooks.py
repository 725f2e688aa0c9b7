"""Webhook subscriptions of partner organisations: ``/api/v1/webhooks`` and their deliveries.

A partner registers a URL and the event types it wants; events are signed per Standard Webhooks
with the subscription's secret (shown once, at creation and at each rotation). Deliveries and their
attempts can be listed, and a dead-lettered delivery sent again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api.auth import ReferralReader, ReferralWriter
from app.api.deps import UoW
from app.api.idempotency import IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.webhooks import service, targets
from app.domain.webhooks.models import DeliveryStatus
from app.domain.webhooks.schemas import (
    DeliveryDetail,
    DeliveryRead,
    SecretRotate,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from app.domain.webhooks.signing import SecretBox
from app.web.cursors import PageRequest

router = APIRouter(tags=["webhooks"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

ONE = "/webhooks/{subscription_id:uuid}"
Created = tuple[datetime, uuid.UUID]
SubscriptionPage = Annotated[PageRequest[Created], keyset("webhook_subscriptions", datetime, uuid.UUID)]
DeliveryPage = Annotated[PageRequest[Created], keyset("webhook_deliveries", datetime, uuid.UUID)]


def _box(request: Request) -> SecretBox:
    return SecretBox(request.app.state.settings.secret("secret_key"))


def _policy(request: Request) -> targets.TargetPolicy:
    return targets.policy_for(request.app.state.settings)


@router.post(
    "/webhooks",
    response_model=SubscriptionWithSecret,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a URL to referral events (partners)",
)
async def create_subscription(
    request: Request,
    uow: UoW,
    principal: ReferralWriter,
    body: SubscriptionCreate,
) -> SubscriptionWithSecret:
    return await service.create(uow, principal, body, box=_box(request), policy=_policy(request))


@router.get("/webhooks", response_model=Page[SubscriptionRead], summary="Your organisation's subscriptions")
async def list_subscriptions(
    uow: UoW,
    principal: ReferralReader,
    page: SubscriptionPage,
) -> Page[SubscriptionRead]:
    rows = await service.list_subscriptions(uow, principal, limit=page.fetch, after=page.after)
    return Page.cut(page, rows, lambda s: (s.created_at, s.id))


@router.get(ONE, response_model=SubscriptionRead, summary="Read a subscription")
async def get_subscription(
    uow: UoW,
    principal: ReferralReader,
    subscription_id: uuid.UUID,
) -> SubscriptionRead:
    return await service.get(uow, principal, subscription_id)


@router.patch(ONE, response_model=SubscriptionRead, summary="Change URL, event types or pause/resume")
async def update_subscription(
    request: Request,
    uow: UoW,
    principal: ReferralWriter,
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
) -> SubscriptionRead:
    return await service.update(uow, principal, subscription_id, body, policy=_policy(request))


@router.delete(
    ONE, status_code=status.HTTP_204_NO_CONTENT, summary="Remove a subscription and its deliveries"
)
async def delete_subscription(
    uow: UoW,
    principal: ReferralWriter,
    subscription_id: uuid.UUID,
) -> Response:
    await service.delete(uow, principal, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    ONE + "/rotate-secret",
    response_model=SubscriptionWithSecret,
    summary="Rotate the signing secret (the previous one keeps signing during the overlap)",
)
async def rotate_secret(
    request: Request,
    uow: UoW,
    principal: ReferralWriter,
    subscription_id: uuid.UUID,
    body: SecretRotate,
) -> SubscriptionWithSecret:
    return await service.rotate_secret(uow, principal, subscription_id, body, box=_box(request))


@router.get(ONE + "/deliveries", response_model=Page[DeliveryRead], summary="Deliveries, newest first")
async def list_deliveries(
    uow: UoW,
    principal: ReferralReader,
    subscription_id: uuid.UUID,
    page: DeliveryPage,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> Page[DeliveryRead]:
    rows = await service.list_deliveries(
        uow, principal, subscription_id, status=status_, limit=page.fetch, after=page.after
    )
    return Page.cut(page, rows, lambda d: (d.created_at, d.id))


@router.get(
    ONE + "/deliveries/{delivery_id:uuid}",
    response_model=DeliveryDetail,
    summary="A delivery with its payload and every attempt",
)
async def get_delivery(
    uow: UoW,
    principal: ReferralReader,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> DeliveryDetail:
    return await service.get_delivery(uow, principal, subscription_id, delivery_id)


@router.post(
    ONE + "/deliveries/{delivery_id:uuid}/redeliver",
    response_model=DeliveryDetail,
    summary="Send a dead-lettered delivery again",
    responses=problem_responses(409),
)
async def redeliver(
    uow: UoW,
    principal: ReferralWriter,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> DeliveryDetail:
    return await service.redeliver(uow, principal, subscription_id, delivery_id)
