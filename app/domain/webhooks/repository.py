"""All SQL of webhook subscriptions and deliveries (the outbox itself is in ``outbox``, the relay's
claim in ``relay_repository``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

Keyset = tuple[datetime, uuid.UUID]


async def add(session: AsyncSession, subscription: WebhookSubscription) -> WebhookSubscription:
    session.add(subscription)
    await session.flush()
    return subscription


async def get_owned(
    session: AsyncSession, organisation_id: uuid.UUID, subscription_id: uuid.UUID, *, for_update: bool = False
) -> WebhookSubscription | None:
    query = select(WebhookSubscription).where(
        WebhookSubscription.id == subscription_id, WebhookSubscription.organisation_id == organisation_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_owned(
    session: AsyncSession, organisation_id: uuid.UUID, *, limit: int, after: Keyset | None
) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(WebhookSubscription.organisation_id == organisation_id)
    if after is not None:
        query = query.where(
            sa.tuple_(col(WebhookSubscription.created_at), col(WebhookSubscription.id)) < sa.tuple_(*after)
        )
    query = query.order_by(col(WebhookSubscription.created_at).desc(), col(WebhookSubscription.id).desc())
    return list((await session.execute(query.limit(limit))).scalars())


async def touch(session: AsyncSession, subscription: WebhookSubscription) -> None:
    subscription.version += 1
    subscription.updated_at = await _now(session)
    await session.flush()


async def delete(session: AsyncSession, subscription: WebhookSubscription) -> None:
    await session.delete(subscription)
    await session.flush()


async def cancel_pending(session: AsyncSession, subscription_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.subscription_id) == subscription_id,
            col(WebhookDelivery.status) == DeliveryStatus.pending,
        )
        .values(status=str(DeliveryStatus.cancelled), last_error=reason, completed_at=sa.func.now())
    )


_DELIVERY_COLUMNS = (
    col(WebhookDelivery.id),
    col(WebhookDelivery.event_id),
    col(WebhookEvent.event_type),
    col(WebhookDelivery.status),
    col(WebhookDelivery.attempts),
    col(WebhookDelivery.next_attempt_at),
    col(WebhookDelivery.last_attempt_at),
    col(WebhookDelivery.last_status_code),
    col(WebhookDelivery.last_error),
    col(WebhookDelivery.completed_at),
    col(WebhookDelivery.created_at),
)


async def list_deliveries(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    *,
    status: DeliveryStatus | None,
    limit: int,
    after: Keyset | None,
) -> list[dict[str, Any]]:
    query = (
        sa.select(*_DELIVERY_COLUMNS)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(col(WebhookDelivery.subscription_id) == subscription_id)
    )
    if status is not None:
        query = query.where(col(WebhookDelivery.status) == status)
    if after is not None:
        query = query.where(
            sa.tuple_(col(WebhookDelivery.created_at), col(WebhookDelivery.id)) < sa.tuple_(*after)
        )
    query = query.order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc()).limit(
        limit
    )
    return [dict(row) for row in (await session.execute(query)).mappings()]


async def get_delivery(
    session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> tuple[dict[str, Any], list[WebhookAttempt]] | None:
    """The delivery (with its event's payload) and its attempts, oldest first."""
    query = (
        sa.select(*_DELIVERY_COLUMNS, col(WebhookEvent.payload))
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(
            col(WebhookDelivery.subscription_id) == subscription_id, col(WebhookDelivery.id) == delivery_id
        )
    )
    row = (await session.execute(query)).mappings().one_or_none()
    if row is None:
        return None
    attempts = await session.execute(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(col(WebhookAttempt.attempted_at), col(WebhookAttempt.number))
    )
    return dict(row), list(attempts.scalars())


async def redeliver(session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> bool:
    """Put a dead delivery back in the queue with a fresh round of attempts."""
    result = await session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.subscription_id) == subscription_id,
            col(WebhookDelivery.status) == DeliveryStatus.dead,
        )
        .values(
            status=str(DeliveryStatus.pending), attempts=0, next_attempt_at=sa.func.now(), completed_at=None
        )
    )
    return bool(cast(CursorResult[Any], result).rowcount)  # an UPDATE's result is a cursor result


async def _now(session: AsyncSession) -> datetime:
    value = await session.scalar(sa.select(sa.func.now()))
    assert value is not None
    return value
