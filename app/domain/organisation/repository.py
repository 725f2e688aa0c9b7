"""Every query of the organisation context."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, delete, func, select

from app.domain.organisation.models import (
    Area,
    Municipality,
    PartnerOrganisation,
    Team,
    TeamArea,
    Worker,
    WorkerTeam,
)

M = TypeVar("M", bound=SQLModel)


async def get(session: AsyncSession, model: type[M], object_id: uuid.UUID) -> M | None:
    return await session.get(model, object_id)


async def page(
    session: AsyncSession,
    model: type[M],
    order: tuple[Any, Any],
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
    where: Sequence[Any] = (),
) -> list[M]:
    """At most ``limit`` rows in the stable order ``order`` (a sort column, then the id), after the
    key ``(sort value, id)`` of the last row of the previous page."""
    statement = select(model).where(*where)
    if after is not None:
        statement = statement.where(sa.tuple_(*order) > sa.tuple_(*after))
    statement = statement.order_by(*order).limit(limit)
    return list((await session.execute(statement)).scalars())


# -- lookups by natural key ------------------------------------------------------------------------


async def municipality_by_code(session: AsyncSession, code: str) -> Municipality | None:
    statement = select(Municipality).where(Municipality.code == code)
    return (await session.execute(statement)).scalars().first()


async def area_by_code(session: AsyncSession, code: str) -> Area | None:
    return (await session.execute(select(Area).where(Area.code == code))).scalars().first()


async def team_by_name(session: AsyncSession, municipality_id: uuid.UUID, name: str) -> Team | None:
    statement = select(Team).where(Team.municipality_id == municipality_id, Team.name == name)
    return (await session.execute(statement)).scalars().first()


async def worker_by_name(session: AsyncSession, name: str) -> Worker | None:
    statement = select(Worker).where(Worker.name == name).order_by(col(Worker.created_at))
    return (await session.execute(statement)).scalars().first()


async def partners_by_name(session: AsyncSession, name: str) -> list[PartnerOrganisation]:
    statement = select(PartnerOrganisation).where(
        func.lower(PartnerOrganisation.name) == name.strip().lower()
    )
    return list((await session.execute(statement)).scalars())


async def existing_teams(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``ids`` are teams."""
    wanted = set(ids)
    if not wanted:
        return set()
    rows = await session.execute(select(Team.id).where(col(Team.id).in_(wanted)))
    return set(rows.scalars())


async def areas_by_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Area]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(Area).where(col(Area.id).in_(wanted)))
    return {area.id: area for area in rows.scalars()}


# -- team coverage ---------------------------------------------------------------------------------


async def buurten_of_teams(
    session: AsyncSession, team_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Team id -> the buurt ids it covers, for a whole page of teams in one query."""
    wanted = set(team_ids)
    result: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if wanted:
        statement = (
            select(TeamArea.team_id, TeamArea.area_id)
            .join(Area, col(Area.id) == TeamArea.area_id)
            .where(col(TeamArea.team_id).in_(wanted))
            .order_by(col(Area.code))
        )
        for team_id, area_id in await session.execute(statement):
            result[team_id].append(area_id)
    return result


async def teams_of_buurten(
    session: AsyncSession, area_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Buurt id -> the team covering it, for a whole page of areas in one query."""
    wanted = set(area_ids)
    if not wanted:
        return {}
    statement = select(TeamArea.area_id, TeamArea.team_id).where(col(TeamArea.area_id).in_(wanted))
    return {area_id: team_id for area_id, team_id in await session.execute(statement)}


async def add_coverage(session: AsyncSession, team_id: uuid.UUID, area_id: uuid.UUID) -> None:
    session.add(TeamArea(team_id=team_id, area_id=area_id))
    await session.flush()


async def remove_coverage(session: AsyncSession, team_id: uuid.UUID, area_id: uuid.UUID) -> bool:
    statement = (
        delete(TeamArea)
        .where(col(TeamArea.team_id) == team_id, col(TeamArea.area_id) == area_id)
        .returning(col(TeamArea.area_id))
    )
    return (await session.execute(statement)).first() is not None


# -- worker memberships ----------------------------------------------------------------------------


async def teams_of_workers(
    session: AsyncSession, worker_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    wanted = set(worker_ids)
    result: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if wanted:
        statement = (
            select(WorkerTeam.worker_id, WorkerTeam.team_id)
            .where(col(WorkerTeam.worker_id).in_(wanted))
            .order_by(col(WorkerTeam.team_id))
        )
        for worker_id, team_id in await session.execute(statement):
            result[worker_id].append(team_id)
    return result


async def set_memberships(session: AsyncSession, worker_id: uuid.UUID, team_ids: Sequence[uuid.UUID]) -> None:
    await session.execute(delete(WorkerTeam).where(col(WorkerTeam.worker_id) == worker_id))
    session.add_all([WorkerTeam(worker_id=worker_id, team_id=team_id) for team_id in dict.fromkeys(team_ids)])
    await session.flush()


def member_ids(team_id: uuid.UUID) -> Any:
    """A subquery of the workers in a team (for a list filter)."""
    return select(WorkerTeam.worker_id).where(col(WorkerTeam.team_id) == team_id)
