"""Webhook tables: subscriptions, the outbox (events), one delivery per event and subscription, attempts.

Events are written in the same transaction as the change they describe (the outbox); the relay moves
deliveries from ``pending`` to ``succeeded``, back to ``pending`` with a later ``next_attempt_at``, to
``dead`` after the last attempt, or to ``cancelled`` when it may no longer send (consent withdrawn,
subscription removed).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, string_array, timestamp_now, tz_datetime, uuid_pk


class EventType(StrEnum):
    submitted = "referral.submitted"
    accepted = "referral.accepted"
    declined = "referral.declined"
    in_progress = "referral.in_progress"
    completed = "referral.completed"
    cancelled = "referral.cancelled"
    message = "referral.message"


class DeliveryStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    dead = "dead"
    cancelled = "cancelled"


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (sa.Index("ix_webhook_subscriptions_organisation_id", "organisation_id"),)

    id: uuid.UUID = uuid_pk()
    organisation_id: uuid.UUID = Field(foreign_key="partner_organisations.id")
    created_by_client_id: str = Field(max_length=80)
    url: str = Field(max_length=2000)
    event_types: list[str] = string_array()
    description: str | None = Field(default=None, max_length=200)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # Signing secrets, encrypted with the service key. During a rotation both sign.
    secret_encrypted: str
    previous_secret_encrypted: str | None = None
    previous_secret_expires_at: datetime | None = tz_datetime()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class WebhookEvent(SQLModel, table=True):
    """The outbox: one row per event, for one partner organisation."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        sa.Index("ix_webhook_events_referral_id", "referral_id"),
        sa.Index("ix_webhook_events_organisation_id_created_at", "organisation_id", "created_at"),
    )

    id: uuid.UUID = uuid_pk()
    event_type: str = Field(max_length=40)
    organisation_id: uuid.UUID = Field(foreign_key="partner_organisations.id")
    referral_id: uuid.UUID | None = Field(default=None, foreign_key="referrals.id", ondelete="CASCADE")
    # The consent the shared data rests on: re-checked by the relay before every attempt.
    consent_id: uuid.UUID | None = Field(default=None, foreign_key="consents.id", index=True)
    payload: dict[str, Any] = Field(sa_type=JSONB)
    created_at: datetime = timestamp_now()


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        one_of("status", DeliveryStatus),
        sa.UniqueConstraint("event_id", "subscription_id", name="uq_webhook_deliveries_event_subscription"),
        sa.Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_webhook_deliveries_subscription_id_created_at", "subscription_id", "created_at"),
    )

    id: uuid.UUID = uuid_pk()
    event_id: uuid.UUID = Field(foreign_key="webhook_events.id", ondelete="CASCADE")
    subscription_id: uuid.UUID = Field(foreign_key="webhook_subscriptions.id", ondelete="CASCADE")
    status: str = Field(default=DeliveryStatus.pending, max_length=10)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime = timestamp_now()
    last_attempt_at: datetime | None = tz_datetime()
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=40)
    completed_at: datetime | None = tz_datetime()
    created_at: datetime = timestamp_now()


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.Index("ix_webhook_attempts_delivery_id", "delivery_id"),)

    id: uuid.UUID = uuid_pk()
    delivery_id: uuid.UUID = Field(foreign_key="webhook_deliveries.id", ondelete="CASCADE")
    number: int
    attempted_at: datetime = timestamp_now()
    duration_ms: int = 0
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=40)  # a category, never a response body
    succeeded: bool = False
