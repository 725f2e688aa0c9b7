"""The transactional outbox: events are written in the same transaction as the change they describe.

``enqueue`` inserts the event and one pending delivery per matching active subscription of the
partner, in a single statement. An event that rests on a consent is not queued at all once that
consent is no longer in force.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import iso_timestamp, table_of
from app.domain.consents.repository import LOCAL_TODAY_SQL
from app.domain.unit_of_work.events import ConsentWithdrawn
from app.domain.unit_of_work.work import UnitOfWork
from app.domain.webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookEvent

_deliveries = table_of(WebhookDelivery)


def payload(event_type: EventType, occurred_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """A thin Standard Webhooks payload: type, timestamp and ids/status only, never personal data."""
    return {"type": str(event_type), "timestamp": iso_timestamp(occurred_at), "data": data}


async def enqueue(
    uow: UnitOfWork,
    *,
    event_type: EventType,
    organisation_id: uuid.UUID,
    referral_id: uuid.UUID | None,
    consent_id: uuid.UUID | None,
    body: dict[str, Any],
) -> uuid.UUID | None:
    """Queue the event and its deliveries in the work's transaction (they go out only if the change
    they describe commits); None when its consent is no longer in force."""
    params = event_params(
        event_type=event_type,
        organisation_id=organisation_id,
        referral_id=referral_id,
        consent_id=consent_id,
        body=body,
    )
    queued: uuid.UUID | None = (await uow.session.execute(_ENQUEUE, params)).scalar_one_or_none()
    return queued


def event_params(
    *,
    event_type: EventType,
    organisation_id: uuid.UUID,
    referral_id: uuid.UUID | None,
    consent_id: uuid.UUID | None,
    body: dict[str, Any],
) -> dict[str, Any]:
    """The values ``enqueue_ctes`` binds (named ``e_*``, so a caller's statement can bind its own)."""
    return {
        "e_id": uuid.uuid4(),
        "e_event_type": str(event_type),
        "e_organisation_id": organisation_id,
        "e_referral_id": referral_id,
        "e_consent_id": consent_id,
        "e_payload": body,
    }


def enqueue_ctes(gate: str | None = None) -> str:
    """The event and its fan-out (one pending delivery per matching active subscription) as two
    data-modifying CTEs, ``new_event`` and ``fan_out``, so an event can also be written by the very
    statement that makes the change. The event is inserted only while its consent (if any) is in
    force and, with ``gate`` (the name of an earlier CTE), only when that CTE produced a row.
    Values: ``event_params``; bind types: ``EVENT_BINDS``."""
    gated = f" AND EXISTS (SELECT 1 FROM {gate})" if gate else ""  # noqa: S608 - a CTE name of ours
    return f"""
    new_event AS (
        INSERT INTO webhook_events (id, event_type, organisation_id, referral_id, consent_id, payload)
        SELECT :e_id, :e_event_type, :e_organisation_id, :e_referral_id, :e_consent_id, :e_payload
        WHERE (CAST(:e_consent_id AS uuid) IS NULL OR EXISTS (
            SELECT 1 FROM consents
            WHERE consents.id = :e_consent_id AND consents.withdrawn_at IS NULL
              AND consents.valid_from <= {LOCAL_TODAY_SQL}
              AND (consents.valid_until IS NULL OR consents.valid_until >= {LOCAL_TODAY_SQL})
        )){gated}
        RETURNING id
    ), fan_out AS (
        INSERT INTO webhook_deliveries (id, event_id, subscription_id, status)
        SELECT gen_random_uuid(), new_event.id, s.id, 'pending'
        FROM new_event JOIN webhook_subscriptions AS s
          ON s.organisation_id = :e_organisation_id AND s.active AND :e_event_type = ANY(s.event_types)
        RETURNING 1
    )"""  # noqa: S608 - only constants and a CTE name of our own are formatted in


EVENT_BINDS = (
    sa.bindparam("e_id", type_=sa.Uuid),
    sa.bindparam("e_organisation_id", type_=sa.Uuid),
    sa.bindparam("e_referral_id", type_=sa.Uuid),
    sa.bindparam("e_consent_id", type_=sa.Uuid),
    sa.bindparam("e_payload", type_=JSONB),
)

# One round trip: the event id comes back only when the event was queued.
_ENQUEUE = sa.text(f"WITH {enqueue_ctes()} SELECT id FROM new_event").bindparams(  # noqa: S608
    *EVENT_BINDS
)


async def cancel_for_withdrawn_consent(uow: UnitOfWork, event: ConsentWithdrawn) -> None:
    """The handler of ``ConsentWithdrawn`` (wired in ``app.bootstrap``): nothing resting on the consent
    goes out any more."""
    await cancel_pending_for_consent(uow.session, event.consent_id)


async def cancel_pending_for_consent(session: AsyncSession, consent_id: uuid.UUID) -> int:
    """Cancel waiting deliveries of events resting on this consent (ones a relay holds right now are
    skipped: the relay re-checks the consent itself)."""
    waiting = (
        select(WebhookDelivery.id)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookEvent.consent_id == consent_id, WebhookDelivery.status == DeliveryStatus.pending)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    result = await session.execute(
        sa.update(_deliveries)
        .where(_deliveries.c.id.in_(waiting.scalar_subquery()))
        .values(
            status=str(DeliveryStatus.cancelled), last_error="consent_withdrawn", completed_at=sa.func.now()
        )
    )
    return _count(result)


async def purge_finished(session: AsyncSession, *, older_than: timedelta, limit: int = 10_000) -> int:
    """Retention: delete events older than ``older_than`` with no delivery still waiting; their
    deliveries and attempts go with them. Returns how many events went. For the purge job."""
    waiting = (
        select(WebhookDelivery.id)
        .where(
            col(WebhookDelivery.event_id) == col(WebhookEvent.id),
            WebhookDelivery.status == DeliveryStatus.pending,
        )
        .exists()
    )
    old = (
        select(WebhookEvent.id)
        .where(col(WebhookEvent.created_at) < sa.func.now() - older_than, ~waiting)
        .limit(limit)
        .scalar_subquery()
    )
    result = await session.execute(sa.delete(WebhookEvent).where(col(WebhookEvent.id).in_(old)))
    return _count(result)


def _count(result: Any) -> int:
    """The rows an UPDATE or DELETE touched (its result is a cursor result)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)
