"""The relay's SQL: claim due deliveries with ``FOR UPDATE SKIP LOCKED`` and record what happened.

A claim holds its row locks until the relay's transaction ends, after the HTTP attempts, so any
number of relays can run: each due delivery is attempted by exactly one of them at a time, and once
recorded it is no longer due.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.consents.models import Consent
from app.domain.consents.repository import in_force_clause
from app.domain.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

_deliveries = table_of(WebhookDelivery)


@dataclass(frozen=True)
class Job:
    delivery_id: uuid.UUID
    event_id: uuid.UUID
    attempts: int
    payload: dict[str, Any]
    url: str
    subscription_active: bool
    consent_in_force: bool
    secret_encrypted: str
    previous_secret_encrypted: str | None
    previous_secret_expires_at: datetime | None
    db_now: datetime
    referral_id: uuid.UUID | None  # the event's referral: its events go out in order


async def claim(
    session: AsyncSession,
    *,
    limit: int,
    due_by: datetime | None,
    organisation_ids: frozenset[uuid.UUID] | None = None,
) -> list[Job]:
    consent_ok = sa.or_(
        col(WebhookEvent.consent_id).is_(None),
        select(Consent.id).where(Consent.id == WebhookEvent.consent_id, in_force_clause()).exists(),
    )
    query = (
        sa.select(
            col(WebhookDelivery.id),
            col(WebhookDelivery.event_id),
            col(WebhookDelivery.attempts),
            col(WebhookEvent.payload),
            col(WebhookSubscription.url),
            col(WebhookSubscription.active),
            consent_ok.label("consent_in_force"),
            col(WebhookSubscription.secret_encrypted),
            col(WebhookSubscription.previous_secret_encrypted),
            col(WebhookSubscription.previous_secret_expires_at),
            sa.func.now(),
            col(WebhookEvent.referral_id),
        )
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .join(WebhookSubscription, col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id))
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookDelivery.next_attempt_at) <= (due_by if due_by is not None else sa.func.now()),
        )
    )
    if organisation_ids is not None:
        query = query.where(col(WebhookSubscription.organisation_id).in_(organisation_ids))
    query = (
        query.order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
        .with_for_update(of=_deliveries, skip_locked=True)
    )
    return [Job(*row) for row in (await session.execute(query)).all()]


@dataclass(frozen=True)
class Result:
    """What one claimed delivery became. ``attempted`` is False when nothing was sent (cancelled)."""

    delivery_id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    attempted: bool
    attempted_at: datetime
    next_attempt_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


async def record(session: AsyncSession, results: list[Result]) -> None:
    """One executemany for the deliveries, one for the attempts."""
    final = (DeliveryStatus.succeeded, DeliveryStatus.dead, DeliveryStatus.cancelled)
    await session.execute(
        sa.update(_deliveries)
        .where(_deliveries.c.id == sa.bindparam("b_id"))
        .values(
            status=sa.bindparam("b_status"),
            attempts=sa.bindparam("b_attempts"),
            next_attempt_at=sa.bindparam("b_next"),
            last_attempt_at=sa.func.coalesce(sa.bindparam("b_last"), _deliveries.c.last_attempt_at),
            last_status_code=sa.func.coalesce(sa.bindparam("b_code"), _deliveries.c.last_status_code),
            last_error=sa.bindparam("b_error"),
            completed_at=sa.bindparam("b_done"),
        ),
        [
            {
                "b_id": r.delivery_id,
                "b_status": str(r.status),
                "b_attempts": r.attempts,
                "b_next": r.next_attempt_at,
                "b_last": r.attempted_at if r.attempted else None,
                "b_code": r.status_code,
                "b_error": r.error,
                "b_done": r.attempted_at if r.status in final else None,
            }
            for r in results
        ],
    )
    attempts = [
        {
            "id": uuid.uuid4(),
            "delivery_id": r.delivery_id,
            "number": r.attempts,
            "attempted_at": r.attempted_at,
            "duration_ms": r.duration_ms,
            "status_code": r.status_code,
            "error": r.error,
            "succeeded": r.status is DeliveryStatus.succeeded,
        }
        for r in results
        if r.attempted
    ]
    if attempts:
        await session.execute(sa.insert(WebhookAttempt), attempts)
