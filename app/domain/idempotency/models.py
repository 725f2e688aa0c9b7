"""The ``idempotency_keys`` table: one row per (caller, key), claimed before the work, completed with it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, timestamp_now

# What a key may be, wherever one is sent (REST's header, the sync upload's edits, GraphQL's
# argument): 1-255 visible ASCII characters, the length the key column holds.
KEY_MAX_LENGTH = 255
KEY_PATTERN = r"^[\x21-\x7e]+$"


class KeyState(StrEnum):
    in_flight = "in_flight"  # claimed; the first request is still working (or died: see locked_until)
    done = "done"  # the response below is stored and replayed for retries


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        one_of("state", KeyState),
        sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    owner: str = Field(primary_key=True, max_length=255)  # the caller's token subject
    key: str = Field(primary_key=True, max_length=KEY_MAX_LENGTH)
    client_id: str = Field(max_length=80)
    fingerprint: str = Field(max_length=64)  # sha256 of method, path and canonical body
    state: str = Field(max_length=10)
    claim_token: uuid.UUID  # which attempt holds the claim (a takeover gets a new one)
    locked_until: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    response_status: int | None = None
    response_headers: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    response_body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    # What the first request touched, so a replay can be written to the access log.
    resource: str | None = Field(default=None, max_length=40)
    household_id: uuid.UUID | None = None
    resource_id: uuid.UUID | None = None
    created_at: datetime = timestamp_now()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
