"""Reading the access log: the privacy officer's view (scope ``audit:read``), and the log of one
household's file for the team that holds it (so a worker can tell a resident who looked).

Reading the log is itself logged: the privacy officer's reads with purpose ``privacy_oversight``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from app.domain.audit import repository
from app.domain.audit.schemas import AccessLogEntryRead, AuditFilters, BreakGlassEventRead, FileAccessRead
from app.domain.households.access import get_visible
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

OVERSIGHT = "privacy_oversight"


async def list_entries(
    uow: UnitOfWork,
    principal: Principal,
    filters: AuditFilters,
    *,
    limit: int,
    after: repository.Cursor | None,
) -> list[AccessLogEntryRead]:
    """The access log, newest first."""
    uow.log(
        principal,
        resource="access_log",
        action=AccessAction.list,
        purpose=OVERSIGHT,
        household_id=filters.household_id,
        person_id=filters.person_id,
    )
    rows = await repository.entries(uow.session, filters, limit=limit, after=after)
    return [AccessLogEntryRead.model_validate(dict(r)) for r in rows]


async def list_break_glass(
    uow: UnitOfWork,
    principal: Principal,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    after: repository.Cursor | None,
) -> list[BreakGlassEventRead]:
    """Break-glass events: who opened which confidential file, why, and until when."""
    uow.log(principal, resource="break_glass", action=AccessAction.list, purpose=OVERSIGHT)
    rows = await repository.break_glass_events(
        uow.session, since=since, until=until, limit=limit, after=after
    )
    return [BreakGlassEventRead.model_validate(dict(r)) for r in rows]


async def file_access_log(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[tuple[uuid.UUID, FileAccessRead]]:
    """Who looked at this household's file, newest first (read by the team that holds it), as
    (row id, entry) pairs: the id only feeds the page cursor."""
    await get_visible(uow, principal, household_id, resource="access_log", action=AccessAction.list)
    rows = await repository.file_entries(uow.session, household_id, limit=limit, after=after)
    return [(r["id"], FileAccessRead.model_validate(dict(r))) for r in rows]
