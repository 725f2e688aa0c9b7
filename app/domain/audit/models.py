"""The access log table. Append-only: a trigger (see the migration) refuses UPDATE, DELETE and TRUNCATE."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, timestamp_now, uuid_pk


class AccessAction(StrEnum):
    read = "read"
    list = "list"
    search = "search"
    create = "create"
    update = "update"
    delete = "delete"
    export = "export"
    break_glass = "break_glass"
    assign = "assign"
    sync = "sync"


class AccessOutcome(StrEnum):
    allowed = "allowed"
    denied = "denied"  # the caller was refused (the object may or may not exist)
    failed = "failed"  # allowed, but the request broke a rule and changed nothing


class AccessLogEntry(SQLModel, table=True):
    __tablename__ = "access_log"
    __table_args__ = (
        one_of("action", AccessAction),
        one_of("outcome", AccessOutcome),
        sa.Index("ix_access_log_occurred_at", "occurred_at"),
    )

    id: uuid.UUID = uuid_pk()
    occurred_at: datetime = timestamp_now()
    actor_subject: str = Field(max_length=255, index=True)
    actor_role: str = Field(max_length=24)
    actor_worker_id: uuid.UUID | None = Field(default=None, index=True)
    client_id: str = Field(max_length=80)  # on whose behalf: the app or machine client used
    organisation_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = Field(default=None, index=True)
    person_id: uuid.UUID | None = Field(default=None, index=True)
    resource: str = Field(max_length=40)  # e.g. household, member, plan, contact_moment, referral
    resource_id: uuid.UUID | None = None
    action: str = Field(max_length=16)
    purpose: str = Field(max_length=80)
    outcome: str = Field(max_length=10)
    reason: str | None = Field(default=None, max_length=500)  # break-glass justification
    request_id: str | None = Field(default=None, max_length=64)
