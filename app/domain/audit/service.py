"""Recording access. Entries collect on the session and are written by the unit of work:

* when the request succeeds, in the same transaction as the change (one multi-row INSERT);
* when it fails (a denial, a broken rule), in a fresh transaction after the rollback, so denied
  attempts are logged even though nothing else is written.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.domain.audit.models import AccessAction, AccessLogEntry, AccessOutcome

_PENDING = "audit_pending"
REQUEST_ID = "request_id"


def record(
    session: AsyncSession,
    principal: Principal,
    *,
    resource: str,
    action: AccessAction,
    outcome: AccessOutcome = AccessOutcome.allowed,
    purpose: str = "casework",
    household_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    resource_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Queue one access-log entry for this unit of work and return it (it may be amended, e.g. to failed)."""
    entry: dict[str, Any] = {
        "id": uuid.uuid4(),
        "actor_subject": principal.subject,
        "actor_role": str(principal.role),
        "actor_worker_id": principal.worker_id,
        "client_id": principal.client_id,
        "organisation_id": principal.organisation_id,
        "household_id": household_id,
        "person_id": person_id,
        "resource": resource,
        "resource_id": resource_id,
        "action": str(action),
        "purpose": purpose,
        "outcome": str(outcome),
        "reason": reason,
        "request_id": session.info.get(REQUEST_ID),
    }
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def take_pending(session: AsyncSession) -> list[dict[str, Any]]:
    return list(session.info.pop(_PENDING, []))


async def write(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    if entries:
        await session.execute(insert(AccessLogEntry), entries)


def mark_failed(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """After a rollback, an entry that said "allowed" describes an attempt that changed nothing."""
    for entry in entries:
        if entry["outcome"] == AccessOutcome.allowed:
            entry["outcome"] = str(AccessOutcome.failed)
    return entries
