"""Every query of the household case file. Hot reads select columns (no ORM hydration); each list is
one statement whatever its length (themes and names are joined or aggregated in SQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.households.models import (
    BreakGlassGrant,
    ContactMoment,
    Household,
    HouseholdAssignment,
    HouseholdTheme,
    Member,
)
from app.domain.organisation.models import Area, Worker, WorkerTeam
from app.domain.reference.models import Theme

Where = Sequence[sa.ColumnElement[bool]]

# -- households ---------------------------------------------------------------------------------


def _themes() -> Any:
    code = col(HouseholdTheme.theme_code)
    return (
        sa.select(sa.func.coalesce(sa.func.array_agg(aggregate_order_by(code, code)), sa.text("'{}'")))
        .where(col(HouseholdTheme.household_id) == col(Household.id))
        .scalar_subquery()
        .label("themes")
    )


def household_select(where: Where) -> Any:
    return (
        sa.select(
            col(Household.id),
            col(Household.reference),
            col(Household.team_id),
            col(Area.code).label("buurt_code"),
            col(Household.postcode),
            col(Household.house_number),
            col(Household.house_number_addition),
            col(Household.coordinator_id),
            col(Worker.name).label("coordinator_name"),
            col(Household.status),
            col(Household.confidential),
            col(Household.closing_reason),
            _themes(),
            col(Household.registered_at),
            col(Household.closed_at),
            col(Household.version),
            col(Household.created_at),
            col(Household.updated_at),
        )
        .select_from(Household)
        .join(Area, col(Area.id) == col(Household.buurt_id))
        .outerjoin(Worker, col(Worker.id) == col(Household.coordinator_id))
        .where(*where)
    )


async def household_rows(
    session: AsyncSession,
    where: Where,
    *,
    limit: int | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[RowMapping]:
    """Households matching ``where``, newest first; ``after`` is the (created_at, id) of the last one seen."""
    query = household_select(where)
    if after is not None:
        query = query.where(sa.tuple_(col(Household.created_at), col(Household.id)) < sa.tuple_(*after))
    query = query.order_by(col(Household.created_at).desc(), col(Household.id).desc())
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).mappings())


async def household_row(session: AsyncSession, household_id: uuid.UUID) -> RowMapping | None:
    rows = await household_rows(session, [col(Household.id) == household_id])
    return rows[0] if rows else None


async def teams_of_worker(session: AsyncSession, worker_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.scalars(select(WorkerTeam.team_id).where(WorkerTeam.worker_id == worker_id))
    return set(rows)


async def active_worker_in_team(session: AsyncSession, worker_id: uuid.UUID, team_id: uuid.UUID) -> bool:
    query = (
        select(Worker.id)
        .join(WorkerTeam, col(WorkerTeam.worker_id) == col(Worker.id))
        .where(Worker.id == worker_id, WorkerTeam.team_id == team_id, col(Worker.active).is_(True))
    )
    return (await session.scalar(query)) is not None


async def known_themes(session: AsyncSession, codes: Sequence[str]) -> set[str]:
    rows = await session.scalars(
        select(Theme.code).where(col(Theme.code).in_(codes), col(Theme.active).is_(True))
    )
    return set(rows)


async def replace_themes(session: AsyncSession, household_id: uuid.UUID, codes: Sequence[str]) -> None:
    await session.execute(
        sa.delete(HouseholdTheme).where(
            col(HouseholdTheme.household_id) == household_id, col(HouseholdTheme.theme_code).not_in(codes)
        )
    )
    if codes:
        await session.execute(
            insert(HouseholdTheme)
            .values([{"household_id": household_id, "theme_code": c} for c in codes])
            .on_conflict_do_nothing()
        )


async def theme_codes(session: AsyncSession, household_id: uuid.UUID) -> list[str]:
    rows = await session.scalars(
        select(HouseholdTheme.theme_code)
        .where(HouseholdTheme.household_id == household_id)
        .order_by(col(HouseholdTheme.theme_code))
    )
    return list(rows)


async def find_households(
    session: AsyncSession, criterion: sa.ColumnElement[bool], where: Where
) -> list[RowMapping]:
    """Households matching a search criterion (on households or their members), visible per ``where``."""
    return await household_rows(session, [criterion, *where], limit=20)


def has_member_with_bsn_index(index: str) -> sa.ColumnElement[bool]:
    return (
        select(Member.id)
        .where(col(Member.household_id) == col(Household.id), Member.bsn_index == index)
        .exists()
    )


# -- who may see a household: assignments, coordinator, break glass ------------------------------


async def assignment_rows(
    session: AsyncSession,
    household_id: uuid.UUID,
    *,
    limit: int | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[RowMapping]:
    """Assignments in the order they were made; ``after`` is the (assigned_at, worker id) of the last
    one seen."""
    query: Any = (
        sa.select(
            col(HouseholdAssignment.worker_id),
            col(Worker.name).label("worker_name"),
            col(HouseholdAssignment.assigned_by),
            col(HouseholdAssignment.assigned_at),
        )
        .join(Worker, col(Worker.id) == col(HouseholdAssignment.worker_id))
        .where(col(HouseholdAssignment.household_id) == household_id)
        .order_by(col(HouseholdAssignment.assigned_at), col(HouseholdAssignment.worker_id))
    )
    if after is not None:
        key = sa.tuple_(col(HouseholdAssignment.assigned_at), col(HouseholdAssignment.worker_id))
        query = query.where(key > sa.tuple_(*after))
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).mappings())


async def add_assignment(
    session: AsyncSession, household_id: uuid.UUID, worker_id: uuid.UUID, by: uuid.UUID | None
) -> bool:
    result = await session.execute(
        insert(HouseholdAssignment)
        .values(household_id=household_id, worker_id=worker_id, assigned_by=by)
        .on_conflict_do_nothing()
        .returning(col(HouseholdAssignment.worker_id))
    )
    return result.scalar_one_or_none() is not None


async def remove_assignment(session: AsyncSession, household_id: uuid.UUID, worker_id: uuid.UUID) -> bool:
    result = await session.execute(
        sa.delete(HouseholdAssignment)
        .where(
            col(HouseholdAssignment.household_id) == household_id,
            col(HouseholdAssignment.worker_id) == worker_id,
        )
        .returning(col(HouseholdAssignment.worker_id))
    )
    return result.scalar_one_or_none() is not None


async def personally_involved_workers(session: AsyncSession, household: Household) -> list[uuid.UUID]:
    """Coordinator, assigned workers and holders of an unexpired break-glass grant."""
    assigned = select(HouseholdAssignment.worker_id).where(HouseholdAssignment.household_id == household.id)
    grants = select(BreakGlassGrant.worker_id).where(
        BreakGlassGrant.household_id == household.id, col(BreakGlassGrant.expires_at) > sa.func.now()
    )
    workers = set((await session.scalars(assigned.union(grants))).all())
    if household.coordinator_id is not None:
        workers.add(household.coordinator_id)
    return sorted(workers)


async def add_break_glass(
    session: AsyncSession, household_id: uuid.UUID, worker_id: uuid.UUID, reason: str, expires_at: datetime
) -> BreakGlassGrant:
    grant = BreakGlassGrant(
        household_id=household_id, worker_id=worker_id, reason=reason, expires_at=expires_at
    )
    session.add(grant)
    await session.flush()
    return grant


async def break_glass_grant(
    session: AsyncSession, household_id: uuid.UUID, grant_id: uuid.UUID, *, for_update: bool = False
) -> BreakGlassGrant | None:
    query = select(BreakGlassGrant).where(
        BreakGlassGrant.id == grant_id, BreakGlassGrant.household_id == household_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


# -- members ------------------------------------------------------------------------------------

_MEMBER_COLUMNS = (
    col(Member.id),
    col(Member.household_id),
    col(Member.given_name),
    col(Member.family_name),
    col(Member.birth_date),
    col(Member.role),
    col(Member.bsn_ciphertext),
    col(Member.version),
    col(Member.created_at),
    col(Member.updated_at),
)


async def member_rows(
    session: AsyncSession,
    where: Where,
    *,
    limit: int | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[RowMapping]:
    """Members in the order they were added; ``after`` is the (created_at, id) of the last one seen."""
    query = sa.select(*_MEMBER_COLUMNS).where(*where)
    if after is not None:
        query = query.where(sa.tuple_(col(Member.created_at), col(Member.id)) > sa.tuple_(*after))
    query = query.order_by(col(Member.created_at), col(Member.id))
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).mappings())


async def member_for_update(
    session: AsyncSession, household_id: uuid.UUID, member_id: uuid.UUID
) -> Member | None:
    query = (
        select(Member).where(Member.id == member_id, Member.household_id == household_id).with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


# -- contact moments ----------------------------------------------------------------------------

_CONTACT_COLUMNS = (
    col(ContactMoment.id),
    col(ContactMoment.household_id),
    col(ContactMoment.worker_id),
    col(ContactMoment.kind),
    col(ContactMoment.occurred_at),
    col(ContactMoment.minutes),
    col(ContactMoment.note),
    col(ContactMoment.created_at),
)


async def contact_rows(
    session: AsyncSession,
    where: Where,
    *,
    limit: int | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[RowMapping]:
    """Contact moments, most recent first; ``after`` is the (occurred_at, id) of the last one seen."""
    query = sa.select(*_CONTACT_COLUMNS).where(*where)
    if after is not None:
        query = query.where(
            sa.tuple_(col(ContactMoment.occurred_at), col(ContactMoment.id)) < sa.tuple_(*after)
        )
    query = query.order_by(col(ContactMoment.occurred_at).desc(), col(ContactMoment.id).desc())
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).mappings())


def household_filter(name: str, value: Any) -> sa.ColumnElement[bool]:
    """One documented list filter (status, buurt_code, coordinator_id, theme, confidential) on
    ``_household_select``; ``value`` is a Python value or a bind parameter."""
    if name == "theme":
        return sa.exists().where(
            col(HouseholdTheme.household_id) == col(Household.id), col(HouseholdTheme.theme_code) == value
        )
    column = {
        "status": col(Household.status),
        "buurt_code": col(Area.code),
        "coordinator_id": col(Household.coordinator_id),
        "confidential": col(Household.confidential),
    }[name]
    return column == value


FILTER_TYPES: dict[str, Any] = {
    "status": sa.String,
    "buurt_code": sa.String,
    "coordinator_id": sa.Uuid,
    "theme": sa.String,
    "confidential": sa.Boolean,
}
