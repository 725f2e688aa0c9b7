"""How the webhook queue is doing, for /metrics: counts and the wait of the oldest due delivery.

One aggregate statement, no ids, no URLs: operators alert on it when the relay (``wijkwerk relay``,
a process of its own) is down or falling behind.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.webhooks.models import DeliveryStatus, WebhookDelivery


@dataclass(frozen=True)
class QueueHealth:
    pending: int  # waiting for a (first or next) attempt, due or not
    due: int  # pending and its attempt time has come: the relay should be sending it now
    dead: int  # dead-lettered, until a partner sends it again or the outbox purge removes it
    oldest_due_seconds: float  # how long the oldest due delivery has waited (0 when none is due)


async def queue_health(session: AsyncSession) -> QueueHealth:
    status, at = col(WebhookDelivery.status), col(WebhookDelivery.next_attempt_at)
    pending = status == DeliveryStatus.pending
    due = sa.and_(pending, at <= sa.func.now())
    waited = sa.func.extract("epoch", sa.func.now() - sa.func.min(at).filter(due))
    row = (
        await session.execute(
            sa.select(
                sa.func.count().filter(pending),
                sa.func.count().filter(due),
                sa.func.count().filter(status == DeliveryStatus.dead),
                sa.func.coalesce(waited, 0),
            ).where(status.in_([DeliveryStatus.pending, DeliveryStatus.dead]))
        )
    ).one()
    return QueueHealth(int(row[0]), int(row[1]), int(row[2]), max(0.0, float(row[3])))
