"""Recording access. Entries collect on the session and are written by the unit of work:

* when the request succeeds, in the same transaction as the change (one multi-row INSERT);
* when it fails (a denial, a broken rule), in a fresh transaction after the rollback, so denied
  attempts are logged even though nothing else is written.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Required, TypedDict, Unpack

import sqlalchemy as sa
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import repository
from app.domain.audit.models import AccessAction, AccessLogEntry, AccessOutcome
from app.domain.audit.schemas import AccessLogEntryRead, AuditFilters, BreakGlassEventRead
from app.security.principal import Principal

_PENDING = "audit_pending"
_WRITTEN = "audit_written"  # (transaction, entry id) of entries a statement of the request wrote
REQUEST_ID = "request_id"
OVERSIGHT = "privacy_oversight"


class EntryFields(TypedDict, total=False):
    """What an access-log entry says beyond who asked (``resource`` and ``action`` are required)."""

    resource: Required[str]
    action: Required[AccessAction]
    outcome: AccessOutcome
    purpose: str
    household_id: uuid.UUID | None
    person_id: uuid.UUID | None
    resource_id: uuid.UUID | None
    reason: str | None


def record(session: AsyncSession, principal: Principal, **fields: Unpack[EntryFields]) -> dict[str, Any]:
    """Queue one access-log entry for this unit of work and return it (it may be amended, e.g. to
    failed). ``outcome`` defaults to allowed, ``purpose`` to casework."""
    entry = new_entry(session, principal, **fields)
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def new_entry(session: AsyncSession, principal: Principal, **fields: Unpack[EntryFields]) -> dict[str, Any]:
    """An access-log entry, not queued: for a statement that writes it along with its work
    (``entry_cte``), which then hands it over with ``written_along``."""
    return {
        "id": uuid.uuid4(),
        "actor_subject": principal.subject,
        "actor_role": str(principal.role),
        "actor_worker_id": principal.worker_id,
        "client_id": principal.client_id,
        "organisation_id": principal.organisation_id,
        "household_id": fields.get("household_id"),
        "person_id": fields.get("person_id"),
        "resource": fields["resource"],
        "resource_id": fields.get("resource_id"),
        "action": str(fields["action"]),
        "purpose": fields.get("purpose", "casework"),
        "outcome": str(fields.get("outcome", AccessOutcome.allowed)),
        "reason": fields.get("reason"),
        "request_id": session.info.get(REQUEST_ID),
    }


_COLUMNS = tuple(c.name for c in AccessLogEntry.__table__.columns if c.name != "occurred_at")  # type: ignore[attr-defined]
ENTRY_BINDS = tuple(
    sa.bindparam(f"a_{c.name}", type_=c.type)
    for c in AccessLogEntry.__table__.columns  # type: ignore[attr-defined]
    if c.name != "occurred_at"
)


def entry_cte(gate: str) -> str:
    """``new_access`` (a data-modifying CTE): the entry (``entry_params``) is inserted by the statement
    that does the work, only when the CTE named ``gate`` produced a row (else nothing is written and
    the caller queues its entry with ``record`` as usual)."""
    values = ", ".join(f":a_{c}" for c in _COLUMNS)
    return f"""new_access AS (
        INSERT INTO access_log ({", ".join(_COLUMNS)})
        SELECT {values} WHERE EXISTS (SELECT 1 FROM {gate})
        RETURNING 1
    )"""  # noqa: S608 - only our own column names and a CTE name of ours are formatted in


def entry_params(entry: dict[str, Any]) -> dict[str, Any]:
    return {f"a_{c}": entry[c] for c in _COLUMNS}


def written_along(session: AsyncSession, entry: dict[str, Any]) -> None:
    """The entry was written by a statement of this unit of work (``entry_cte``): it counts as this
    request's row. ``write`` does not write it again while that transaction stands; after a rollback
    it is written (as failed) like every other queued entry."""
    session.info.setdefault(_PENDING, []).append(entry)
    transaction = session.sync_session.get_transaction()
    session.info.setdefault(_WRITTEN, []).append((transaction, entry["id"]))


def take_pending(session: AsyncSession) -> list[dict[str, Any]]:
    return list(session.info.pop(_PENDING, []))


async def write(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    transaction = session.sync_session.get_transaction()
    written = {i for t, i in session.info.pop(_WRITTEN, []) if t is not None and t is transaction}
    entries = [e for e in entries if e["id"] not in written]
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
