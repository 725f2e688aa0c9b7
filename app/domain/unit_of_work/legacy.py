"""TRANSITIONAL (removed when every context takes the unit of work): the old session-based calls,
answered by the session's unit of work. Nothing new may use this module."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.unit_of_work.access_log import AccessEntry, inline_binds, inline_sql
from app.domain.unit_of_work.change_feed import CaseChange, ChangeOp, ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

SESSION_KEY = "unit_of_work"


def work_of(session: Any) -> UnitOfWork | None:
    if isinstance(session, UnitOfWork):
        return session
    found = session.info.get(SESSION_KEY)
    return found if isinstance(found, UnitOfWork) else None


def record(session: Any, principal: Principal, **fields: Any) -> AccessEntry:
    work = work_of(session)
    if work is None:  # a job without a unit of work: the entry is not written (as before)
        return _detached(principal, fields)
    return work.log(principal, **fields)


def _detached(principal: Principal, fields: dict[str, Any]) -> AccessEntry:
    return AccessEntry(
        actor_subject=principal.subject,
        actor_role=str(principal.role),
        actor_worker_id=principal.worker_id,
        client_id=principal.client_id,
        organisation_id=principal.organisation_id,
        resource=fields["resource"],
        action=str(fields["action"]),
        purpose=str(fields.get("purpose", "casework")),
        outcome=str(fields.get("outcome", "allowed")),
        household_id=fields.get("household_id"),
        person_id=fields.get("person_id"),
        resource_id=fields.get("resource_id"),
        reason=fields.get("reason"),
    )


async def record_change(
    session: AsyncSession,
    *,
    household_id: uuid.UUID,
    entity: str,
    entity_id: uuid.UUID,
    op: ChangeOp = ChangeOp.upsert,
    former_team_id: uuid.UUID | None = None,
    former_worker_ids: list[uuid.UUID] | None = None,
) -> None:
    change = ChangeRecord(household_id, entity, entity_id, op, former_team_id, former_worker_ids)
    work = work_of(session)
    if work is not None:
        work.record_change(change)
    else:
        await session.execute(CaseChange.__table__.insert().values(**change.row()))  # type: ignore[attr-defined]


def new_entry(session: Any, principal: Principal, **fields: Any) -> AccessEntry:
    work = work_of(session)
    return work.entry(principal, **fields) if work is not None else _detached(principal, fields)


def written_along(session: Any, entry: AccessEntry) -> None:
    work = work_of(session)
    if work is not None:
        work.written_by_statement(entry)


def amend_last(session: Any, **fields: Any) -> None:
    work = work_of(session)
    if work is not None and work.entries:
        for name, value in fields.items():
            setattr(work.entries[-1], name, str(value) if name == "purpose" else value)


def pending(session: Any) -> list[AccessEntry]:
    work = work_of(session)
    return list(work.entries) if work is not None else []


ENTRY_PREFIX = "a_"


def entry_cte(gate: str) -> str:
    return inline_sql(gate=gate, prefix=ENTRY_PREFIX).replace("logged AS", "new_access AS", 1)


def entry_params(entry: AccessEntry) -> dict[str, Any]:
    params = entry.params(ENTRY_PREFIX)
    params.pop(f"{ENTRY_PREFIX}outcome")
    return params


ENTRY_BINDS = tuple(inline_binds(ENTRY_PREFIX))
