"""Recording access. Entries collect on the session and are written by the unit of work:

* when the request succeeds, in the same transaction as the change (one multi-row INSERT);
* when it fails (a denial, a broken rule), in a fresh transaction after the rollback, so denied
  attempts are logged even though nothing else is written.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.domain.audit import repository
from app.domain.audit.models import AccessAction, AccessLogEntry, AccessOutcome
from app.domain.audit.schemas import AccessLogEntryRead, AuditFilters, BreakGlassEventRead

_PENDING = "audit_pending"
REQUEST_ID = "request_id"
OVERSIGHT = "privacy_oversight"


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


def pending(session: AsyncSession) -> list[dict[str, Any]]:
    """The entries queued so far in this unit of work (read-only view; they are still written)."""
    return list(session.info.get(_PENDING, []))


def amend_last(session: AsyncSession, **fields: Any) -> None:
    """Complete the entry queued last in this unit of work, e.g. with the id of the object a create
    made (known only after the access check logged the attempt) or a sharper purpose."""
    queued = session.info.get(_PENDING)
    if queued:
        queued[-1].update({k: (str(v) if k == "purpose" else v) for k, v in fields.items()})


# -- reading the log (privacy officer) -----------------------------------------------------------


async def list_entries(
    session: AsyncSession,
    principal: Principal,
    filters: AuditFilters,
    *,
    limit: int,
    after: repository.Cursor | None,
) -> list[AccessLogEntryRead]:
    """The access log for the privacy officer (scope audit:read), newest first. Reading the log is
    itself logged (resource access_log, action list)."""
    record(
        session,
        principal,
        resource="access_log",
        action=AccessAction.list,
        purpose=OVERSIGHT,
        household_id=filters.household_id,
        person_id=filters.person_id,
    )
    rows = await repository.entries(session, filters, limit=limit, after=after)
    return [AccessLogEntryRead.model_validate(dict(r)) for r in rows]


async def list_break_glass(
    session: AsyncSession,
    principal: Principal,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    after: repository.Cursor | None,
) -> list[BreakGlassEventRead]:
    """Break-glass events: who opened which confidential file, why, and until when."""
    record(session, principal, resource="break_glass", action=AccessAction.list, purpose=OVERSIGHT)
    rows = await repository.break_glass_events(session, since=since, until=until, limit=limit, after=after)
    return [BreakGlassEventRead.model_validate(dict(r)) for r in rows]
