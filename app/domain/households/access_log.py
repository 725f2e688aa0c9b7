"""Who looked at this household's file: for a resident who asks (read by the team that holds it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import repository as audit_repo
from app.domain.audit.models import AccessAction
from app.domain.audit.schemas import FileAccessRead
from app.domain.households.access import get_visible
from app.security.principal import Principal


async def file_access_log(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[tuple[uuid.UUID, FileAccessRead]]:
    """(row id, entry) pairs, newest first; the id only feeds the page cursor."""
    await get_visible(session, principal, household_id, resource="access_log", action=AccessAction.list)
    rows = await audit_repo.file_entries(session, household_id, limit=limit, after=after)
    return [(r["id"], FileAccessRead.model_validate(dict(r))) for r in rows]
