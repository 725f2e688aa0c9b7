"""Every query of the directory. Writes go through the ORM; the search and the reads are Core
statements that load a page of services and then their children, one statement per kind."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.directory import rules
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
from app.domain.documents import constant
from app.domain.organisation.models import Area, Municipality
from app.domain.reference.models import LifeDomain, Theme
from app.security.principal import Principal

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

    @classmethod
    def of(cls, principal: Principal | None) -> Visibility:
        return cls(rules.sees_internal(principal), rules.own_partner(principal))


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


# -- reading services ------------------------------------------------------------------------------


# The search's parameters by filter (``SearchFilter`` field -> the statement's parameters and their
# types): the statement is built once per set of filters given and run with their values.
SEARCH_PARAMETERS: dict[str, dict[str, Any]] = {
    "text": {"text": sa.Text},
    "theme": {"theme": sa.Text},
    "life_domain": {"life_domain": sa.Text},
    "neighbourhood": {"neighbourhood": sa.Text},
    "age": {"age": sa.Integer},
    "free": {"free": sa.Boolean},
    "open_at": {"open_weekday": sa.Integer, "open_time": sa.Time},
    "organization_id": {"organization_id": sa.Uuid},
    "municipality": {"municipality": sa.Text},
}
AFTER = {"after_level": sa.Integer, "after_neg_rank": sa.Float, "after_name": sa.Text, "after_id": sa.Uuid}


def _param(name: str) -> Any:
    for group in SEARCH_PARAMETERS.values():
        if name in group:
            return sa.bindparam(name, type_=group[name])
    return sa.bindparam(name, type_=AFTER[name])


def search_given(flt: SearchFilter) -> frozenset[str]:
    """The filters of ``flt`` that are given (the statement's shape)."""
    return frozenset(name for name in SEARCH_PARAMETERS if getattr(flt, name) is not None) | (
        frozenset({"include_defunct"}) if flt.include_defunct else frozenset()
    )


def search_values(flt: SearchFilter, visibility: Visibility, after: SearchKey | None) -> dict[str, Any]:
    """The search statement's parameter values."""
    values: dict[str, Any] = {n: getattr(flt, n) for n in SEARCH_PARAMETERS if getattr(flt, n) is not None}
    if flt.open_at is not None:
        values |= {"open_weekday": flt.open_at[0], "open_time": flt.open_at[1]}
        del values["open_at"]
    if not visibility.internal and visibility.own_partner is not None:
        values["own_partner"] = visibility.own_partner
    if after is not None:
        values |= dict(zip(AFTER, after, strict=True))
    return values


def _place(column: str) -> sa.ScalarSelect[Any]:
    """``column`` (of areas) of the searched buurt (``:neighbourhood``), NULL when there is no such buurt. An
    uncorrelated subquery: PostgreSQL reads it once per statement (an InitPlan), so the buurt lookup
    costs no round trip of its own."""
    buurt = AREA.alias("searched_buurt")
    return (
        sa.select(buurt.c[column])
        .where(buurt.c.code == _param("neighbourhood"), buurt.c.level == constant("'buurt'"))
        .scalar_subquery()
    )


def _level() -> sa.ColumnElement[Any]:
    """The nearest way the service serves the searched buurt (``AreaLevel``), NULL when it does not or
    when its organisation is not of the buurt's municipality. That organisation test is one more set
    (the municipality's organisations, built once per statement from one index, as the levels'
    sets), inside the level so that PostgreSQL keeps it a hashed set: as a filter of its own it is
    planned as a join, a probe of the organisations per candidate."""
    organizations = ORG.alias("buurt_organizations")
    of_municipality = SVC.c.organization_id.in_(
        sa.select(organizations.c.id).where(organizations.c.municipality_id == _place("municipality_id"))
    )
    return sa.case((of_municipality, serving_level(_place("id"), _place("parent_id"), one_buurt=True)))


def serving_level(buurt_id: Any, wijk_id: Any, *, one_buurt: bool = False) -> sa.ColumnElement[Any]:
    """The nearest way the service serves the buurt (``AreaLevel``), NULL when it does not; the buurt
    and its wijk are ids or SQL expressions (a household's, in a statement of the read model).

    ``one_buurt``: the buurt is the same for every service of the statement (the search's). Each
    level is then one set of services, which PostgreSQL builds once and probes per candidate (hashed
    subplans), each read from one index alone (migration 0290): offered at a place in the buurt
    (the links' copy of their location's buurt), serving the buurt, its wijk, the whole
    municipality (the areas by area). With a buurt per row (a household's) those sets would be built
    again for every row, so the test stays per service there."""
    if one_buurt:
        return _one_buurt_level(buurt_id, wijk_id)
    at_location = sa.exists(
        sa.select(constant("1"))
        .select_from(SAL.join(LOC, LOC.c.id == SAL.c.location_id))
        .where(SAL.c.service_id == SVC.c.id, LOC.c.buurt_id == buurt_id)
    )
    by_area = (
        sa.select(
            sa.func.min(
                sa.case(
                    (SAREA.c.area_id == buurt_id, constant(str(int(AreaLevel.buurt)))),
                    (SAREA.c.area_id == wijk_id, constant(str(int(AreaLevel.wijk)))),
                    (SAREA.c.area_id.is_(None), constant(str(int(AreaLevel.municipality)))),
                )
            )
        )
        .where(SAREA.c.service_id == SVC.c.id)
        .scalar_subquery()
    )
    return sa.func.least(sa.case((at_location, constant(str(int(AreaLevel.location))))), by_area)


def _one_buurt_level(buurt_id: Any, wijk_id: Any) -> sa.ColumnElement[Any]:
    """``serving_level`` for one buurt: the first level whose set holds the service, the same as the
    least of the levels it serves the buurt at."""

    def serving(area: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return SVC.c.id.in_(sa.select(SAREA.c.service_id).where(area))

    levels = (
        (SVC.c.id.in_(sa.select(SAL.c.service_id).where(SAL.c.buurt_id == buurt_id)), AreaLevel.location),
        (serving(SAREA.c.area_id == buurt_id), AreaLevel.buurt),
        (serving(SAREA.c.area_id == wijk_id), AreaLevel.wijk),
        (serving(SAREA.c.area_id.is_(None)), AreaLevel.municipality),
    )
    return sa.case(*((test, constant(str(int(level)))) for test, level in levels))


def _visible(internal: bool, own_partner: bool) -> sa.ColumnElement[bool]:
    """``Visibility.clause`` with the partner as the parameter ``own_partner``."""
    if internal:
        return sa.true()
    if own_partner:
        return sa.or_(
            SVC.c.public, ORG.c.partner_organisation_id == sa.bindparam("own_partner", type_=sa.Uuid)
        )
    return SVC.c.public


def _filters(given: frozenset[str]) -> list[sa.ColumnElement[bool]]:
    """The search's conditions for the filters ``given`` (their values are parameters)."""
    where: list[sa.ColumnElement[bool]] = []
    # "neighbourhood": the service serves it and its organisation is of its municipality (``ranked``:
    # its level, ``_level``, is not NULL).
    if "text" in given:
        where.append(SVC.c.search_vector.op("@@")(_query()))
    if "include_defunct" not in given:
        where.append(SVC.c.status != constant(f"'{ServiceStatus.defunct.value}'"))
    # Containment (``@>``), not ``= ANY``: the themes' GIN index answers it, so PostgreSQL intersects
    # it with the text index's matches before reading a row.
    if "theme" in given:
        where.append(_contains(SVC.c.themes, _param("theme")))
    if "life_domain" in given:
        where.append(_contains(SVC.c.life_domains, _param("life_domain")))
    if "age" in given:
        age = _param("age")
        where += [
            sa.or_(SVC.c.minimum_age.is_(None), SVC.c.minimum_age <= age),
            sa.or_(SVC.c.maximum_age.is_(None), SVC.c.maximum_age >= age),
        ]
    if "free" in given:
        where.append(SVC.c.free_of_charge == _param("free"))
    if "open_at" in given:
        moment = _param("open_time")
        where.append(
            sa.exists(
                sa.select(constant("1")).where(
                    SCHED.c.service_id == SVC.c.id,
                    SCHED.c.weekday == _param("open_weekday"),
                    SCHED.c.opens_at <= moment,
                    SCHED.c.closes_at > moment,
                )
            )
        )
    if "organization_id" in given:
        where.append(SVC.c.organization_id == _param("organization_id"))
    if "municipality" in given:
        where.append(
            ORG.c.municipality_id
            == sa.select(MUNI.c.id).where(MUNI.c.code == _param("municipality")).scalar_subquery()
        )
    return where


def _contains(codes: Any, code: Any) -> sa.ColumnElement[bool]:
    """``codes`` (an array column) holds ``code``: ``codes @> ARRAY[code]``, which a GIN index answers."""
    return codes.op("@>", return_type=sa.Boolean)(postgresql.array([code]))


def _query() -> Any:
    return sa.func.websearch_to_tsquery(constant("'dutch'::regconfig"), _param("text"))


def ranked(given: frozenset[str], internal: bool, own_partner: bool, after: bool) -> sa.Subquery:
    """The search's page of hits in order, up to ``:limit`` rows: id, level (0 without a buurt),
    rank, neg_rank and name (the key is level, neg_rank, name, id). Nearest area first (with a buurt),
    then best text match, then name; the buurt is looked up in the same statement."""
    rank: sa.ColumnElement[Any] = constant("0.0::float8")
    if "text" in given:
        rank = sa.cast(sa.func.ts_rank_cd(SVC.c.search_vector, _query()), sa.Float)
    near = "neighbourhood" in given
    # The organisation is read only where a condition needs it (its partner, its municipality named).
    with_organization = own_partner or "municipality" in given
    matching = (
        sa.select(
            SVC.c.id, (_level() if near else constant("0")).label("level"), rank.label("rank"), SVC.c.name
        )
        .select_from(SVC.join(ORG, ORG.c.id == SVC.c.organization_id) if with_organization else SVC)
        .where(_visible(internal, own_partner), *_filters(given))
    )
    if near:
        # OFFSET 0 keeps the subquery whole: pulled up into the outer query, the level would be written
        # out twice (in the "serves the buurt" filter and in the order), and PostgreSQL would build
        # the buurt's set of services and each candidate's area levels twice (EXPLAIN: ~20% of the
        # buffers a search touched; bench/directory/README.md, stop 24).
        matching = matching.offset(constant("0"))
    inner = matching.subquery("matching")
    neg_rank = (-inner.c.rank).label("neg_rank")
    key = (inner.c.level, neg_rank, inner.c.name, inner.c.id)
    outer = sa.select(inner.c.id, inner.c.level, inner.c.rank, neg_rank, inner.c.name)
    if near:
        outer = outer.where(inner.c.level.is_not(None))
    if after:
        outer = outer.where(sa.tuple_(*key) > sa.tuple_(*(_param(n) for n in AFTER)))
    return outer.order_by(*key).limit(sa.bindparam("limit", type_=sa.Integer)).subquery("ranked")


@lru_cache(maxsize=256)
def _search_statement(
    given: frozenset[str], internal: bool, own_partner: bool, after: bool
) -> sa.Select[Any]:
    hits = ranked(given, internal, own_partner, after)
    return sa.select(hits.c.id, hits.c.level, hits.c.rank, hits.c.name).order_by(
        hits.c.level, hits.c.neg_rank, hits.c.name, hits.c.id
    )


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
    *,
    limit: int,
    after: SearchKey | None,
) -> list[Hit]:
    """A page of matching services (see ``ranked``); none when ``flt.neighbourhood`` is no buurt."""
    own_partner = not visibility.internal and visibility.own_partner is not None
    statement = _search_statement(search_given(flt), visibility.internal, own_partner, after is not None)
    rows = await session.execute(statement, {**search_values(flt, visibility, after), "limit": limit})
    place = flt.neighbourhood is not None
    return [Hit(i, lvl if place else None, rank, name) for i, lvl, rank, name in rows]


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
