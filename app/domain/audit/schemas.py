"""Read models of the access log: the privacy officer's full view, and a household's own file log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome


class AccessLogEntryRead(BaseModel):
    """One access-log row, as the privacy officer sees it."""

    id: uuid.UUID
    occurred_at: datetime
    actor_subject: str
    actor_role: str
    actor_name: str | None = Field(description="The person's display name, or the client's name.")
    actor_worker_id: uuid.UUID | None
    client_id: str
    organisation_id: uuid.UUID | None
    household_id: uuid.UUID | None
    person_id: uuid.UUID | None
    resource: str
    resource_id: uuid.UUID | None
    action: AccessAction
    purpose: str
    outcome: AccessOutcome
    reason: str | None
    request_id: str | None


class FileAccessRead(BaseModel):
    """Who looked at a household's file: what a resident is shown on request."""

    occurred_at: datetime
    actor_name: str | None
    actor_role: str
    organisation_name: str | None
    resource: str
    action: AccessAction
    purpose: str
    outcome: AccessOutcome
    reason: str | None = Field(description="The stated reason of a break-glass access.")
    person_id: uuid.UUID | None


class BreakGlassEventRead(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID
    household_reference: str
    worker_id: uuid.UUID
    worker_name: str
    reason: str
    granted_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class AuditFilters:
    person_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None
    actor_subject: str | None = None
    action: AccessAction | None = None
    outcome: AccessOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None
