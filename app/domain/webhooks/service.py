"""Webhook subscriptions and deliveries, for partner clients only: each sees its own organisation's.

Anyone else (a team member, the BI client) is refused outright (403, ``partners_only``); another
partner's subscription answers exactly like a missing one (404).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome
from app.domain.unit_of_work.work import UnitOfWork
from app.domain.webhooks import repository, targets
from app.domain.webhooks.models import DeliveryStatus, WebhookSubscription
from app.domain.webhooks.repository import Keyset
from app.domain.webhooks.schemas import (
    AttemptRead,
    DeliveryDetail,
    DeliveryRead,
    SecretRotate,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from app.domain.webhooks.signing import SecretBox, new_secret
from app.security.principal import Principal
from app.security.scopes import Role

SUBSCRIPTION = "webhook_subscription"
DELIVERY = "webhook_delivery"


def organisation_of(principal: Principal) -> uuid.UUID:
    if principal.role is not Role.partner or principal.organisation_id is None:
        raise Forbidden("Webhooks are for partner organisations' clients.", rule="partners_only")
    return principal.organisation_id


async def _checked_url(url: str, policy: targets.TargetPolicy, resolver: targets.Resolver) -> str:
    try:
        await targets.check(url, policy, resolver)
    except targets.TargetRefused as refused:
        raise ValidationFailed([FieldError(("body", "url"), refused.message, refused.rule)]) from refused
    return url


async def _owned(
    uow: UnitOfWork,
    principal: Principal,
    subscription_id: uuid.UUID,
    action: AccessAction,
    *,
    for_update: bool = False,
) -> WebhookSubscription:
    organisation_id = organisation_of(principal)
    found = await repository.get_owned(uow.session, organisation_id, subscription_id, for_update=for_update)
    outcome = AccessOutcome.allowed if found else AccessOutcome.denied
    uow.log(principal, resource=SUBSCRIPTION, action=action, outcome=outcome, resource_id=subscription_id)
    if found is None:
        raise NotFound("webhook subscription")
    return found


def to_read(subscription: WebhookSubscription) -> SubscriptionRead:
    return SubscriptionRead.model_validate(subscription.model_dump())


async def create(
    uow: UnitOfWork,
    principal: Principal,
    data: SubscriptionCreate,
    *,
    box: SecretBox,
    policy: targets.TargetPolicy,
    resolver: targets.Resolver = targets.system_resolver,
) -> SubscriptionWithSecret:
    organisation_id = organisation_of(principal)
    url = await _checked_url(data.url, policy, resolver)
    secret = new_secret()
    subscription = await repository.add(
        uow.session,
        WebhookSubscription(
            organisation_id=organisation_id,
            created_by_client_id=principal.client_id,
            url=url,
            event_types=sorted({str(e) for e in data.event_types}),
            description=data.description,
            secret_encrypted=box.seal(secret),
        ),
    )
    uow.log(principal, resource=SUBSCRIPTION, action=AccessAction.create, resource_id=subscription.id)
    return SubscriptionWithSecret.model_validate({**subscription.model_dump(), "secret": secret})


async def list_subscriptions(
    uow: UnitOfWork, principal: Principal, *, limit: int, after: Keyset | None
) -> list[SubscriptionRead]:
    organisation_id = organisation_of(principal)
    uow.log(principal, resource=SUBSCRIPTION, action=AccessAction.list)
    rows = await repository.list_owned(uow.session, organisation_id, limit=limit, after=after)
    return [to_read(s) for s in rows]


async def get(uow: UnitOfWork, principal: Principal, subscription_id: uuid.UUID) -> SubscriptionRead:
    return to_read(await _owned(uow, principal, subscription_id, AccessAction.read))


async def update(
    uow: UnitOfWork,
    principal: Principal,
    subscription_id: uuid.UUID,
    data: SubscriptionUpdate,
    *,
    policy: targets.TargetPolicy,
    resolver: targets.Resolver = targets.system_resolver,
) -> SubscriptionRead:
    subscription = await _owned(uow, principal, subscription_id, AccessAction.update, for_update=True)
    if data.url is not None:
        subscription.url = await _checked_url(data.url, policy, resolver)
    if data.event_types is not None:
        subscription.event_types = sorted({str(e) for e in data.event_types})
    if "description" in data.model_fields_set:
        subscription.description = data.description
    if data.active is not None:
        subscription.active = data.active
        if not data.active:
            await repository.cancel_pending(uow.session, subscription.id, "subscription_paused")
    await repository.touch(uow.session, subscription)
    return to_read(subscription)


async def delete(uow: UnitOfWork, principal: Principal, subscription_id: uuid.UUID) -> None:
    subscription = await _owned(uow, principal, subscription_id, AccessAction.delete, for_update=True)
    await repository.delete(uow.session, subscription)


async def rotate_secret(
    uow: UnitOfWork,
    principal: Principal,
    subscription_id: uuid.UUID,
    data: SecretRotate,
    *,
    box: SecretBox,
) -> SubscriptionWithSecret:
    """A new secret signs from now on; the previous one signs as well for ``overlap_hours``."""
    subscription = await _owned(uow, principal, subscription_id, AccessAction.update, for_update=True)
    secret = new_secret()
    await repository.touch(uow.session, subscription)
    subscription.previous_secret_encrypted = subscription.secret_encrypted
    subscription.previous_secret_expires_at = subscription.updated_at + timedelta(hours=data.overlap_hours)
    subscription.secret_encrypted = box.seal(secret)
    await uow.session.flush()
    return SubscriptionWithSecret.model_validate({**subscription.model_dump(), "secret": secret})


async def list_deliveries(
    uow: UnitOfWork,
    principal: Principal,
    subscription_id: uuid.UUID,
    *,
    status: DeliveryStatus | None,
    limit: int,
    after: Keyset | None,
) -> list[DeliveryRead]:
    await _owned(uow, principal, subscription_id, AccessAction.list)
    rows = await repository.list_deliveries(
        uow.session, subscription_id, status=status, limit=limit, after=after
    )
    return [DeliveryRead.model_validate(row) for row in rows]


async def get_delivery(
    uow: UnitOfWork, principal: Principal, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryDetail:
    await _owned(uow, principal, subscription_id, AccessAction.read)
    return await _delivery_detail(uow.session, subscription_id, delivery_id)


async def redeliver(
    uow: UnitOfWork, principal: Principal, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryDetail:
    """Queue a dead-lettered delivery again (409 when it is not dead)."""
    await _owned(uow, principal, subscription_id, AccessAction.update)
    await _delivery_detail(uow.session, subscription_id, delivery_id)
    if not await repository.redeliver(uow.session, subscription_id, delivery_id):
        raise Conflict("Only a dead-lettered delivery can be sent again.", rule="delivery_not_dead")
    return await _delivery_detail(uow.session, subscription_id, delivery_id)


async def _delivery_detail(
    session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryDetail:
    found = await repository.get_delivery(session, subscription_id, delivery_id)
    if found is None:
        raise NotFound("webhook delivery")
    row, attempts = found
    return DeliveryDetail.model_validate(
        {**row, "attempt_log": [AttemptRead.model_validate(a.model_dump()) for a in attempts]}
    )
