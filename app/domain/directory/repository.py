"""Every query of the directory. Writes go through the ORM; the search and the reads are Core
statements that load a page of services and then their children, one statement per kind."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, delete, select

from app.domain.base import table_of
from app.domain.directory.models import (
    DirectoryLocation,
    DirectoryOrganization,
    DirectorySchedule,
    DirectoryService,
    DirectoryServiceArea,
    DirectoryServiceAtLocation,
    ServiceStatus,
)
from app.domain.directory.rules import AreaLevel
from app.domain.organisation.models import Area, Municipality
from app.domain.reference.models import LifeDomain, Theme

ORG = table_of(DirectoryOrganization)
LOC = table_of(DirectoryLocation)
SVC = table_of(DirectoryService)
SAL = table_of(DirectoryServiceAtLocation)
SAREA = table_of(DirectoryServiceArea)
SCHED = table_of(DirectorySchedule)
AREA = table_of(Area)
MUNI = table_of(Municipality)

SearchKey = tuple[int, float, str, uuid.UUID]  # (area level, minus rank, name, id)


@dataclass(frozen=True)
class Visibility:
    """What a reader may see: everything (workers, administrators), or public entries plus the
    organisation's own (a partner maintaining them)."""

    internal: bool
    own_partner: uuid.UUID | None = None

    def clause(self) -> sa.ColumnElement[bool]:
        if self.internal:
            return sa.true()
        if self.own_partner is not None:
            return sa.or_(SVC.c.public, ORG.c.partner_organisation_id == self.own_partner)
        return SVC.c.public


@dataclass(frozen=True)
class SearchFilter:
    text: str | None = None
    theme: str | None = None
    life_domain: str | None = None
    neighbourhood: str | None = None
    age: int | None = None
    free: bool | None = None
    open_at: tuple[int, time] | None = None  # (ISO weekday, local time)
    organization_id: uuid.UUID | None = None
    municipality: str | None = None  # municipality code (GM + 4 digits)
    include_defunct: bool = False


@dataclass(frozen=True)
class Hit:
    service_id: uuid.UUID
    level: int | None
    rank: float
    name: str


# -- lookups ---------------------------------------------------------------------------------------


async def organization(
    session: AsyncSession, org_id: uuid.UUID, *, lock: bool = False
) -> DirectoryOrganization | None:
    statement = select(DirectoryOrganization).where(col(DirectoryOrganization.id) == org_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalars().first()


async def location(
    session: AsyncSession, location_id: uuid.UUID, *, lock: bool = False
) -> DirectoryLocation | None:
    statement = select(DirectoryLocation).where(col(DirectoryLocation.id) == location_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalars().first()


async def service(
    session: AsyncSession, service_id: uuid.UUID, *, lock: bool = False
) -> DirectoryService | None:
    statement = select(DirectoryService).where(col(DirectoryService.id) == service_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalars().first()


async def partner_of(session: AsyncSession, org_id: uuid.UUID) -> tuple[bool, uuid.UUID | None]:
    """(whether the organisation exists, the partner organisation it is)."""
    row = (await session.execute(sa.select(ORG.c.partner_organisation_id).where(ORG.c.id == org_id))).first()
    return (row is not None, row[0] if row else None)


async def organization_with_partner(session: AsyncSession, partner_id: uuid.UUID) -> uuid.UUID | None:
    row = await session.execute(sa.select(ORG.c.id).where(ORG.c.partner_organisation_id == partner_id))
    return row.scalar_one_or_none()


async def municipality_code(session: AsyncSession, municipality_id: uuid.UUID) -> str | None:
    row = await session.execute(sa.select(MUNI.c.code).where(MUNI.c.id == municipality_id))
    return row.scalar_one_or_none()


async def areas_by_code(
    session: AsyncSession, codes: Sequence[str]
) -> dict[str, tuple[uuid.UUID, uuid.UUID, str]]:
    """Code -> (area id, municipality id, level) for the codes that exist."""
    if not codes:
        return {}
    rows = await session.execute(
        sa.select(AREA.c.code, AREA.c.id, AREA.c.municipality_id, AREA.c.level).where(
            AREA.c.code.in_(set(codes))
        )
    )
    return {code: (area_id, muni, level) for code, area_id, muni, level in rows}


async def known_codes(
    session: AsyncSession, themes: Sequence[str], life_domains: Sequence[str]
) -> tuple[set[str], set[str]]:
    """Which of the theme and life-domain codes exist and are active."""
    found_themes = (
        set(
            (
                await session.execute(
                    select(Theme.code).where(col(Theme.code).in_(set(themes)), col(Theme.active))
                )
            ).scalars()
        )
        if themes
        else set()
    )
    found_domains = (
        set(
            (
                await session.execute(
                    select(LifeDomain.code).where(
                        col(LifeDomain.code).in_(set(life_domains)), col(LifeDomain.active)
                    )
                )
            ).scalars()
        )
        if life_domains
        else set()
    )
    return found_themes, found_domains


async def locations_of_organization(
    session: AsyncSession, org_id: uuid.UUID, location_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not location_ids:
        return set()
    rows = await session.execute(
        sa.select(LOC.c.id).where(LOC.c.organization_id == org_id, LOC.c.id.in_(set(location_ids)))
    )
    return set(rows.scalars())


# -- children of a service -------------------------------------------------------------------------


async def replace_locations(
    session: AsyncSession, service_id: uuid.UUID, location_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        delete(DirectoryServiceAtLocation).where(col(DirectoryServiceAtLocation.service_id) == service_id)
    )
    session.add_all(
        [
            DirectoryServiceAtLocation(service_id=service_id, location_id=i)
            for i in dict.fromkeys(location_ids)
        ]
    )


async def replace_areas(
    session: AsyncSession, service_id: uuid.UUID, area_ids: Sequence[uuid.UUID | None]
) -> None:
    await session.execute(
        delete(DirectoryServiceArea).where(col(DirectoryServiceArea.service_id) == service_id)
    )
    session.add_all([DirectoryServiceArea(service_id=service_id, area_id=i) for i in dict.fromkeys(area_ids)])


async def replace_schedules(
    session: AsyncSession, service_id: uuid.UUID, schedules: Sequence[DirectorySchedule]
) -> None:
    await session.execute(delete(DirectorySchedule).where(col(DirectorySchedule.service_id) == service_id))
    session.add_all(schedules)


async def touch_services_at(session: AsyncSession, location_id: uuid.UUID, moment: datetime) -> None:
    """A location changed: so did every service offered there (HSDS ``last_modified``)."""
    offered = sa.select(SAL.c.service_id).where(SAL.c.location_id == location_id)
    await session.execute(sa.update(SVC).where(SVC.c.id.in_(offered)).values(last_modified=moment))


# -- reading services ------------------------------------------------------------------------------


def _level(level: AreaLevel) -> Any:
    """A level as a constant of the statement (no bound value: the read model's statements are raw)."""
    return sa.literal_column(str(int(level)))


def serving_level(buurt_id: Any, wijk_id: Any) -> sa.ColumnElement[Any]:
    """The nearest way the service serves the buurt (``AreaLevel``), NULL when it does not; the buurt
    and its wijk are ids or SQL expressions (a household's, in a statement of the read model)."""
    at_location = sa.exists(
        sa.select(sa.literal_column("1"))
        .select_from(SAL.join(LOC, LOC.c.id == SAL.c.location_id))
        .where(SAL.c.service_id == SVC.c.id, LOC.c.buurt_id == buurt_id)
    )
    by_area = (
        sa.select(
            sa.func.min(
                sa.case(
                    (SAREA.c.area_id == buurt_id, _level(AreaLevel.buurt)),
                    (SAREA.c.area_id == wijk_id, _level(AreaLevel.wijk)),
                    (SAREA.c.area_id.is_(None), _level(AreaLevel.municipality)),
                )
            )
        )
        .where(SAREA.c.service_id == SVC.c.id)
        .scalar_subquery()
    )
    return sa.func.least(sa.case((at_location, _level(AreaLevel.location))), by_area)


async def buurt(session: AsyncSession, code: str) -> tuple[uuid.UUID, uuid.UUID | None, uuid.UUID] | None:
    """(buurt id, its wijk, its municipality) for a buurt code."""
    row = (
        await session.execute(
            sa.select(AREA.c.id, AREA.c.parent_id, AREA.c.municipality_id).where(
                AREA.c.code == code, AREA.c.level == "buurt"
            )
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def search(
    session: AsyncSession,
    flt: SearchFilter,
    visibility: Visibility,
    place: tuple[uuid.UUID, uuid.UUID | None, uuid.UUID] | None,
    *,
    limit: int,
    after: SearchKey | None,
) -> list[Hit]:
    """A page of matching services: nearest area first (with a buurt), then best text match, then
    name. ``place`` is the buurt of ``flt.neighbourhood`` (None without that filter)."""
    where: list[sa.ColumnElement[bool]] = [visibility.clause()]
    rank: sa.ColumnElement[Any] = sa.literal(0.0, sa.Float)
    if flt.text:
        query = sa.func.websearch_to_tsquery(sa.literal_column("'dutch'::regconfig"), flt.text)
        where.append(SVC.c.search_vector.op("@@")(query))
        rank = sa.cast(sa.func.ts_rank_cd(SVC.c.search_vector, query), sa.Float)
    level: sa.ColumnElement[Any] = sa.literal(0, sa.Integer)
    if place is not None:
        buurt_id, wijk_id, municipality_id = place
        level = serving_level(buurt_id, wijk_id)
        where += [level.is_not(None), ORG.c.municipality_id == municipality_id]
    if not flt.include_defunct:
        where.append(SVC.c.status != ServiceStatus.defunct)
    if flt.theme:
        where.append(SVC.c.themes.any_() == flt.theme)
    if flt.life_domain:
        where.append(SVC.c.life_domains.any_() == flt.life_domain)
    if flt.age is not None:
        where += [
            sa.or_(SVC.c.minimum_age.is_(None), SVC.c.minimum_age <= flt.age),
            sa.or_(SVC.c.maximum_age.is_(None), SVC.c.maximum_age >= flt.age),
        ]
    if flt.free is not None:
        where.append(SVC.c.free_of_charge.is_(flt.free))
    if flt.open_at is not None:
        weekday, moment = flt.open_at
        where.append(
            sa.exists(
                sa.select(1).where(
                    SCHED.c.service_id == SVC.c.id,
                    SCHED.c.weekday == weekday,
                    SCHED.c.opens_at <= moment,
                    SCHED.c.closes_at > moment,
                )
            )
        )
    if flt.organization_id is not None:
        where.append(SVC.c.organization_id == flt.organization_id)
    if flt.municipality is not None:
        where.append(
            ORG.c.municipality_id
            == sa.select(MUNI.c.id).where(MUNI.c.code == flt.municipality).scalar_subquery()
        )
    inner = (
        sa.select(SVC.c.id, level.label("level"), (-rank).label("neg_rank"), SVC.c.name)
        .select_from(SVC.join(ORG, ORG.c.id == SVC.c.organization_id))
        .where(*where)
        .subquery()
    )
    key = (inner.c.level, inner.c.neg_rank, inner.c.name, inner.c.id)
    outer = sa.select(*key)
    if after is not None:
        outer = outer.where(sa.tuple_(*key) > sa.tuple_(*after))
    outer = outer.order_by(*key).limit(limit)
    rows = await session.execute(outer)
    return [Hit(i, lvl if place is not None else None, -neg, name) for lvl, neg, name, i in rows]


async def services_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Each service's columns and its organisation's name and partner, by id."""
    if not ids:
        return {}
    columns = [c for c in SVC.c if c.name != "search_vector"]
    rows = await session.execute(
        sa.select(*columns, ORG.c.name.label("organization_name"), ORG.c.partner_organisation_id)
        .select_from(SVC.join(ORG, ORG.c.id == SVC.c.organization_id))
        .where(SVC.c.id.in_(set(ids)))
    )
    return {row.id: dict(row._mapping) for row in rows}


async def locations_of(
    session: AsyncSession, service_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    result: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    if service_ids:
        rows = await session.execute(
            sa.select(
                SAL.c.service_id,
                SAL.c.id.label("sal_id"),
                SAL.c.description.label("sal_description"),
                *LOC.c,
                AREA.c.code.label("neighbourhood"),
            )
            .select_from(
                SAL.join(LOC, LOC.c.id == SAL.c.location_id).outerjoin(AREA, AREA.c.id == LOC.c.buurt_id)
            )
            .where(SAL.c.service_id.in_(set(service_ids)))
            .order_by(LOC.c.name, LOC.c.id)
        )
        for row in rows:
            result[row.service_id].append(dict(row._mapping))
    return result


AreaRow = tuple[uuid.UUID, str, str, str]  # (service area id, code, name, level)


async def areas_of(session: AsyncSession, service_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AreaRow]]:
    """Service id -> each area it serves; the whole municipality by its GM code."""
    result: dict[uuid.UUID, list[AreaRow]] = defaultdict(list)
    if service_ids:
        code = sa.func.coalesce(AREA.c.code, MUNI.c.code)
        rows = await session.execute(
            sa.select(
                SAREA.c.service_id,
                SAREA.c.id,
                code,
                sa.func.coalesce(AREA.c.name, MUNI.c.name),
                sa.func.coalesce(AREA.c.level, "municipality"),
            )
            .select_from(
                SAREA.join(SVC, SVC.c.id == SAREA.c.service_id)
                .join(ORG, ORG.c.id == SVC.c.organization_id)
                .join(MUNI, MUNI.c.id == ORG.c.municipality_id)
                .outerjoin(AREA, AREA.c.id == SAREA.c.area_id)
            )
            .where(SAREA.c.service_id.in_(set(service_ids)))
            .order_by(code)
        )
        for service_id, area_id, area_code, name, level in rows:
            result[service_id].append((area_id, area_code, name, level))
    return result


async def schedules_of(
    session: AsyncSession, service_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    result: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    if service_ids:
        rows = await session.execute(
            sa.select(SCHED)
            .where(SCHED.c.service_id.in_(set(service_ids)))
            .order_by(SCHED.c.weekday, SCHED.c.opens_at, SCHED.c.id)
        )
        for row in rows:
            result[row.service_id].append(dict(row._mapping))
    return result


async def stale_services(
    session: AsyncSession, assured_before: date, *, limit: int, after: tuple[date, uuid.UUID] | None
) -> list[uuid.UUID]:
    """Services never verified or verified on or before ``assured_before``, the longest unverified
    first (never verified counts as the oldest)."""
    assured = sa.func.coalesce(SVC.c.assured_date, sa.cast(sa.literal("0001-01-01"), sa.Date))
    statement = sa.select(SVC.c.id).where(
        sa.or_(SVC.c.assured_date.is_(None), SVC.c.assured_date <= assured_before),
        SVC.c.status != ServiceStatus.defunct,
    )
    if after is not None:
        statement = statement.where(sa.tuple_(assured, SVC.c.id) > sa.tuple_(*after))
    rows = await session.execute(statement.order_by(assured, SVC.c.id).limit(limit))
    return list(rows.scalars())


async def organizations_page(
    session: AsyncSession, *, limit: int, after: tuple[str, uuid.UUID] | None
) -> list[DirectoryOrganization]:
    statement = select(DirectoryOrganization)
    key = (col(DirectoryOrganization.name), col(DirectoryOrganization.id))
    if after is not None:
        statement = statement.where(sa.tuple_(*key) > sa.tuple_(*after))
    return list((await session.execute(statement.order_by(*key).limit(limit))).scalars())


async def location_neighbourhood(session: AsyncSession, buurt_id: uuid.UUID | None) -> str | None:
    if buurt_id is None:
        return None
    return (await session.execute(sa.select(AREA.c.code).where(AREA.c.id == buurt_id))).scalar_one_or_none()


async def organization_by_name(
    session: AsyncSession, municipality_id: uuid.UUID, name: str
) -> uuid.UUID | None:
    row = await session.execute(
        sa.select(ORG.c.id).where(ORG.c.municipality_id == municipality_id, ORG.c.name == name).limit(1)
    )
    return row.scalar_one_or_none()
