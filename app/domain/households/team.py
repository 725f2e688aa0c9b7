"""Team-level access management: assignments and coordinator handover (team leads, ``cases:assign``)
and break-glass access to a confidential household of one's own team.

Every change of who may see a household bumps its version (so ETags move) and records an ``access``
change with the audience before the change, so the phones of those who lose it get a tombstone.
Team leads reach confidential households of their team here without opening them
(``get_in_own_team``): these answers carry assignments and ids, not the file.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from app.domain.households import repository as repo
from app.domain.households.access import get_in_own_team, get_visible
from app.domain.households.models import BreakGlassGrant, Household, HouseholdAssignment
from app.domain.households.rules import ensure_open
from app.domain.households.schemas import (
    AssignmentRead,
    BreakGlassGrantRead,
    BreakGlassRead,
    Handover,
    HouseholdRead,
)
from app.domain.households.service import (
    former_audience,
    record_access_change,
    to_read,
    touch,
)
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

ASSIGNMENT = "assignment"
BREAK_GLASS_DURATION = timedelta(hours=4)


async def list_assignments(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    limit: int | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[AssignmentRead]:
    """Who is assigned, in the order they were (``after``: the (assigned_at, worker id) of the last
    one seen)."""
    await get_visible(uow, principal, household_id, resource=ASSIGNMENT, action=AccessAction.list)
    rows = await repo.assignment_rows(uow.session, household_id, limit=limit, after=after)
    return [AssignmentRead.model_validate(dict(r)) for r in rows]


async def _require_team_worker(
    session: AsyncSession, worker_id: uuid.UUID, team_id: uuid.UUID, field: str
) -> None:
    if not await repo.active_worker_in_team(session, worker_id, team_id):
        raise ValidationFailed(
            [
                FieldError(
                    ("body", field), "This worker is not an active member of the team.", "worker_not_in_team"
                )
            ]
        )


async def assign_worker(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, worker_id: uuid.UUID
) -> list[AssignmentRead]:
    household = await get_in_own_team(
        uow,
        principal,
        household_id,
        resource=ASSIGNMENT,
        action=AccessAction.assign,
        resource_id=worker_id,
        for_update=True,
    )
    ensure_open(household.status)
    await _require_team_worker(uow.session, worker_id, household.team_id, "worker_id")
    former = await former_audience(uow.session, household)
    if await repo.add_assignment(uow.session, household.id, worker_id, principal.worker_id):
        touch(household)
        await uow.session.flush()
        record_access_change(uow, household, former)
    return [
        AssignmentRead.model_validate(dict(r)) for r in await repo.assignment_rows(uow.session, household_id)
    ]


async def unassign_worker(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    worker_id: uuid.UUID,
    expected_version: ExpectedVersion,
) -> None:
    household = await get_in_own_team(
        uow,
        principal,
        household_id,
        resource=ASSIGNMENT,
        action=AccessAction.assign,
        resource_id=worker_id,
        for_update=True,
    )
    expected_version.check(household.id, household.version)
    former = await former_audience(uow.session, household)
    if not await repo.remove_assignment(uow.session, household.id, worker_id):
        raise NotFound("assignment")
    touch(household)
    await uow.session.flush()
    record_access_change(uow, household, former)


async def hand_over(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    data: Handover,
    expected_version: ExpectedVersion,
) -> HouseholdRead:
    """A new coordinator, possibly in another team; moving teams drops the old team's assignments."""
    household = await get_in_own_team(
        uow,
        principal,
        household_id,
        resource="household",
        action=AccessAction.assign,
        resource_id=household_id,
        for_update=True,
    )
    expected_version.check(household.id, household.version)
    ensure_open(household.status)
    team_id = data.team_id or household.team_id
    await _require_team_worker(uow.session, data.coordinator_id, team_id, "coordinator_id")
    former = await former_audience(uow.session, household)
    if team_id != household.team_id:
        await uow.session.execute(
            sa.delete(HouseholdAssignment).where(col(HouseholdAssignment.household_id) == household.id)
        )
    household.team_id = team_id
    household.coordinator_id = data.coordinator_id
    touch(household)
    await uow.session.flush()
    record_access_change(uow, household, former)
    return to_read(await repo.household_row(uow.session, household.id))


def _involved(household: Household, principal: Principal, involved: list[uuid.UUID]) -> bool:
    return principal.worker_id in involved or household.coordinator_id == principal.worker_id


async def break_glass(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, reason: str
) -> BreakGlassRead:
    """Time-boxed access to a confidential household of the caller's own team, with a stated reason
    (logged with action break_glass; the privacy officer lists these events)."""
    household = await get_in_own_team(
        uow,
        principal,
        household_id,
        resource="household",
        action=AccessAction.break_glass,
        resource_id=household_id,
        reason=reason,
    )
    assert principal.worker_id is not None  # get_in_own_team admits team workers only
    if not household.confidential or _involved(
        household, principal, await repo.personally_involved_workers(uow.session, household)
    ):
        raise Conflict("You can already open this household.", rule="break_glass_not_needed")
    grant = await repo.add_break_glass(
        uow.session, household.id, principal.worker_id, reason, utcnow() + BREAK_GLASS_DURATION
    )
    return BreakGlassRead(
        id=grant.id, household_id=household.id, granted_at=grant.granted_at, expires_at=grant.expires_at
    )


BREAK_GLASS = "break_glass"


async def _grant(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, grant_id: uuid.UUID, action: AccessAction
) -> BreakGlassGrant:
    """A break-glass grant of a household of the lead's team (team-level: the file is not opened)."""
    await get_in_own_team(
        uow, principal, household_id, resource=BREAK_GLASS, action=action, resource_id=grant_id
    )
    grant = await repo.break_glass_grant(
        uow.session, household_id, grant_id, for_update=action != AccessAction.read
    )
    if grant is None:
        raise NotFound("break-glass grant")
    return grant


def _grant_read(grant: BreakGlassGrant) -> BreakGlassGrantRead:
    return BreakGlassGrantRead.model_validate(grant, from_attributes=True)


async def read_break_glass(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, grant_id: uuid.UUID
) -> BreakGlassGrantRead:
    return _grant_read(await _grant(uow, principal, household_id, grant_id, AccessAction.read))


async def review_break_glass(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, grant_id: uuid.UUID
) -> BreakGlassGrantRead:
    """A team lead has looked at this use of break-glass access (it leaves their worklist). Another
    lead reviews one's own; a second review changes nothing."""
    grant = await _grant(uow, principal, household_id, grant_id, AccessAction.update)
    if grant.worker_id == principal.worker_id:
        raise Forbidden(
            "Another team lead reviews your own use of break-glass access.", rule="own_break_glass"
        )
    if grant.reviewed_at is None:
        grant.reviewed_at = utcnow()
        grant.reviewed_by = principal.worker_id
        await uow.session.flush()
    return _grant_read(grant)
