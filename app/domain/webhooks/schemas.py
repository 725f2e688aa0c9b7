"""Webhook subscription and delivery request/response models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.inputs import Flag, Whole
from app.domain.text import MultiLine, SingleLine
from app.domain.webhooks.models import DeliveryStatus, EventType

EVENT_TYPES_FIELD = Field(min_length=1, max_length=len(EventType), description="Events to receive.")


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: SingleLine = Field(
        min_length=8,
        max_length=2000,
        description="Where to POST events (https).",
        examples=["https://partner.example/hooks"],
    )
    event_types: list[EventType] = EVENT_TYPES_FIELD
    description: MultiLine | None = Field(default=None, max_length=200)


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: SingleLine | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EventType))
    description: MultiLine | None = Field(default=None, max_length=200)
    active: Flag | None = None


class SecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: Whole = Field(
        default=24, ge=0, le=168, description="How long the previous secret keeps signing as well."
    )


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[EventType]
    description: str | None
    active: bool
    previous_secret_expires_at: datetime | None = Field(
        description="While set and in the future, messages carry a signature with the previous secret too."
    )
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionRead):
    secret: str = Field(description="The signing secret (whsec_...). Shown once: store it now.")


class AttemptRead(BaseModel):
    number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None = Field(description="A category such as connect_error, timeout, http_status.")
    succeeded: bool


class DeliveryRead(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID = Field(description="Also the webhook-id header (as msg_<hex>).")
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    completed_at: datetime | None
    created_at: datetime


class DeliveryDetail(DeliveryRead):
    payload: dict[str, Any]
    attempt_log: list[AttemptRead]
