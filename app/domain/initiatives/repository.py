"""Every query of the initiatives context.

Reads select columns with SQLAlchemy Core and build frozen views (no ORM hydration on the hot path);
each batch read takes a whole level of keys at once, so GraphQL loaders issue one statement per level.
Visibility is part of every statement: ideas and private columns are filtered in SQL by the viewer.
Writes lock the row that guards an invariant (network, year plan, initiative) with SELECT ... FOR UPDATE.
"""

from __future__ import annotations

import uuid
from collections import defaultdict, namedtuple
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.initiatives.access import Viewer, initiative_visible, private_value
from app.domain.initiatives.models import (
    Grant,
    Initiative,
    NetworkArea,
    NetworkMember,
    ResidentNetwork,
    YearPlan,
)
from app.domain.initiatives.schemas import (
    ContactView,
    GrantView,
    InitiativeFilter,
    InitiativeView,
    NeighbourhoodView,
    NetworkView,
    ThemeView,
    YearPlanView,
)
from app.domain.organisation.models import Area, AreaLevel, Municipality
from app.domain.reference.models import Theme

I = table_of(Initiative).c  # noqa: E741
A = table_of(Area).c
N = table_of(ResidentNetwork).c
YP = table_of(YearPlan).c
G = table_of(Grant).c
M = table_of(NetworkMember).c
NA = table_of(NetworkArea).c
WIJK = table_of(Area).alias("wijk")

CursorKey = tuple[datetime, uuid.UUID]

# -- hot reads: statements built once per shape, run on the session's connection -------------------
# Building a select of this size costs about as much as running it, and SQLAlchemy memoises the
# cache key on the statement object: so the loader statements are built once per shape (viewer's
# private networks, filter, page size) with bound parameters for the values, and reused. They run
# on the session's connection (same transaction, no ORM result layer) and take id lists as one
# array parameter (``= ANY($1)``): one prepared statement whatever the number of ids.
_STATEMENTS: dict[Hashable, Any] = {}
_STATEMENTS_MAX = 512
IDS = sa.bindparam("ids", type_=postgresql.ARRAY(sa.Uuid()))


def _as_is(column: Any) -> Any:
    """The driver's value as it comes: asyncpg already gives a list for an array; SQLAlchemy's
    ARRAY result processing would copy it item by item in Python."""
    return sa.type_coerce(column, sa.types.NullType()).label(column.name)


def _statement(key: Hashable, build: Callable[[], Any]) -> Any:
    found = _STATEMENTS.get(key)
    if found is None:
        if len(_STATEMENTS) >= _STATEMENTS_MAX:
            _STATEMENTS.clear()
        found = _STATEMENTS[key] = build()
    return found


async def _rows(session: AsyncSession, statement: Any, **params: Any) -> list[Any]:
    """Plain named tuples: reading a column by name costs a fraction of a SQLAlchemy Row's."""
    connection = await session.connection()
    result = await connection.execute(statement, params)
    make = _tuple_type(tuple(result.keys()))._make
    return [make(row) for row in result]


@lru_cache(maxsize=64)
def _tuple_type(keys: tuple[str, ...]) -> Any:
    return namedtuple("Row", keys, rename=True)


# -- initiatives ---------------------------------------------------------------------------------


def _initiative_select(viewer: Viewer, *extra: Any) -> sa.Select[Any]:
    """Initiatives as ``viewer`` may see them; the statement depends on ``viewer.private_networks`` only."""

    def private(column: Any) -> Any:
        return private_value(I.network_id, column, viewer)

    return (
        sa.select(
            I.id,
            I.network_id,
            N.name.label("network_name"),
            I.buurt_id,
            A.code.label("buurt_code"),
            A.name.label("buurt_name"),
            WIJK.c.code.label("wijk_code"),
            WIJK.c.name.label("wijk_name"),
            I.title,
            I.summary,
            _as_is(I.themes),
            I.status,
            I.requested_cents,
            I.granted_cents,
            I.spent_cents,
            I.starts_on,
            I.ends_on,
            I.participants_reached,
            I.version,
            I.created_at,
            I.updated_at,
            YP.year,
            private(I.initiator_name).label("initiator_name"),
            private(I.initiator_email).label("initiator_email"),
            private(I.initiator_phone).label("initiator_phone"),
            private(I.report).label("report"),
            *extra,
        )
        .select_from(table_of(Initiative))
        .join(table_of(Area), A.id == I.buurt_id)
        .outerjoin(WIJK, WIJK.c.id == A.parent_id)
        .join(table_of(ResidentNetwork), N.id == I.network_id)
        .outerjoin(table_of(YearPlan), YP.id == I.year_plan_id)
        .where(initiative_visible(viewer))
    )


def _initiative_view(row: Any) -> InitiativeView:
    initiator = None
    if row.initiator_name is not None:
        initiator = ContactView(row.initiator_name, row.initiator_email, row.initiator_phone)
    return InitiativeView(
        id=row.id,
        network_id=row.network_id,
        network_name=row.network_name,
        buurt=NeighbourhoodView(row.buurt_id, row.buurt_code, row.buurt_name, row.wijk_code, row.wijk_name),
        title=row.title,
        summary=row.summary,
        themes=list(row.themes),
        status=row.status,
        requested_cents=row.requested_cents,
        granted_cents=row.granted_cents,
        spent_cents=row.spent_cents,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        participants_reached=row.participants_reached,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        year=row.year,
        initiator=initiator,
        report=row.report,
    )


def _filtered(query: sa.Select[Any], flt: InitiativeFilter) -> sa.Select[Any]:
    if flt.neighbourhood is not None:
        query = query.where(A.code == flt.neighbourhood)
    if flt.network_id is not None:
        query = query.where(I.network_id == flt.network_id)
    if flt.statuses:
        query = query.where(I.status.in_([str(s) for s in flt.statuses]))
    if flt.theme is not None:
        # ``@>`` on the PostgreSQL array type, so the GIN index on themes serves it.
        query = query.where(sa.type_coerce(I.themes, postgresql.ARRAY(sa.String)).contains([flt.theme]))
    if flt.municipality is not None:
        municipality = select(Municipality.id).where(Municipality.code == flt.municipality)
        query = query.where(N.municipality_id == municipality.scalar_subquery())
    return query


def _list_query(viewer: Viewer, flt: InitiativeFilter, limit: int, paged: bool) -> sa.Select[Any]:
    query = _filtered(_initiative_select(viewer), flt)
    if paged:
        after = (sa.bindparam("after_at", type_=I.created_at.type), sa.bindparam("after_id", type_=I.id.type))
        query = query.where(sa.tuple_(I.created_at, I.id) < sa.tuple_(*after))
    return query.order_by(I.created_at.desc(), I.id.desc()).limit(limit)


async def list_initiatives(
    session: AsyncSession, viewer: Viewer, flt: InitiativeFilter, limit: int, after: CursorKey | None
) -> list[InitiativeView]:
    """Newest first; ``limit`` rows after the cursor key (callers ask one extra to see a next page)."""
    paged = after is not None
    key = ("list", viewer.private_networks, flt, limit, paged)
    query = _statement(key, lambda: _list_query(viewer, flt, limit, paged))
    params = {"after_at": after[0], "after_id": after[1]} if after is not None else {}
    return [_initiative_view(row) for row in await _rows(session, query, **params)]


async def initiatives_by_ids(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, InitiativeView]:
    key = ("by_ids", viewer.private_networks)
    query = _statement(key, lambda: _initiative_select(viewer).where(I.id == sa.any_(IDS)))
    return {row.id: _initiative_view(row) for row in await _rows(session, query, ids=list(ids))}


async def initiatives_by_parent(
    session: AsyncSession,
    viewer: Viewer,
    parent: str,
    parent_ids: Sequence[uuid.UUID],
    flt: InitiativeFilter,
    first: int,
) -> dict[uuid.UUID, list[InitiativeView]]:
    """The newest ``first`` initiatives of each buurt or network (``parent``), in one statement."""

    def build() -> sa.Select[Any]:
        parent_column = {"buurt": I.buurt_id, "network": I.network_id}[parent]
        order = (I.created_at.desc(), I.id.desc())
        rank = sa.func.row_number().over(partition_by=parent_column, order_by=order)
        inner = _filtered(_initiative_select(viewer, rank.label("rank")), flt)
        ranked = inner.where(parent_column == sa.any_(IDS)).subquery()
        return sa.select(ranked).where(ranked.c.rank <= first).order_by(ranked.c.rank)

    query = _statement(("by_parent", viewer.private_networks, parent, flt, first), build)
    grouped: dict[uuid.UUID, list[InitiativeView]] = defaultdict(list)
    key = "buurt_id" if parent == "buurt" else "network_id"
    for row in await _rows(session, query, ids=list(parent_ids)):
        grouped[getattr(row, key)].append(_initiative_view(row))
    return grouped


async def lock_initiative(session: AsyncSession, initiative_id: uuid.UUID) -> Initiative | None:
    query = select(Initiative).where(Initiative.id == initiative_id).with_for_update()
    return (await session.scalars(query)).one_or_none()


# -- areas ----------------------------------------------------------------------------------------


def _neighbourhood_select() -> sa.Select[Any]:
    return (
        sa.select(A.id, A.code, A.name, WIJK.c.code.label("wijk_code"), WIJK.c.name.label("wijk_name"))
        .select_from(table_of(Area))
        .outerjoin(WIJK, WIJK.c.id == A.parent_id)
        .where(A.level == AreaLevel.buurt)
    )


def _neighbourhood(row: Any) -> NeighbourhoodView:
    return NeighbourhoodView(row.id, row.code, row.name, row.wijk_code, row.wijk_name)


async def neighbourhoods(
    session: AsyncSession, municipality_id: uuid.UUID | None, wijk_code: str | None, limit: int
) -> list[NeighbourhoodView]:
    query = _neighbourhood_select()
    if municipality_id is not None:
        query = query.where(A.municipality_id == municipality_id)
    if wijk_code is not None:
        query = query.where(WIJK.c.code == wijk_code)
    rows = await session.execute(query.order_by(A.code).limit(limit))
    return [_neighbourhood(row) for row in rows]


async def neighbourhoods_by_codes(
    session: AsyncSession, codes: Iterable[str]
) -> dict[str, NeighbourhoodView]:
    codes_param = sa.bindparam("codes", type_=postgresql.ARRAY(sa.String()))
    query = _statement("by_codes", lambda: _neighbourhood_select().where(A.code == sa.any_(codes_param)))
    return {row.code: _neighbourhood(row) for row in await _rows(session, query, codes=list(codes))}


async def buurt_municipalities(
    session: AsyncSession, codes: Iterable[str]
) -> dict[str, tuple[uuid.UUID, uuid.UUID]]:
    """code -> (area id, municipality id) for buurten among ``codes``."""
    query = select(Area.code, Area.id, Area.municipality_id).where(
        col(Area.code).in_(list(codes)), Area.level == AreaLevel.buurt
    )
    return {code: (area_id, municipality) for code, area_id, municipality in await session.execute(query)}


async def municipality_of_code(session: AsyncSession, code: str) -> uuid.UUID | None:
    return await session.scalar(select(Municipality.id).where(Municipality.code == code))


# -- networks -------------------------------------------------------------------------------------


def _network(row: Any) -> NetworkView:
    return NetworkView(*row[: len(NETWORK_COLUMNS)])


NETWORK_COLUMNS = (
    N.id,
    N.name,
    N.municipality_id,
    N.version,
    N.quorum_members,
    N.resident_share_percent,
    N.anonymous_voting,
)


async def list_networks(
    session: AsyncSession, municipality_id: uuid.UUID | None, buurt_code: str | None, limit: int
) -> list[NetworkView]:
    query = sa.select(*NETWORK_COLUMNS)
    if municipality_id is not None:
        query = query.where(N.municipality_id == municipality_id)
    if buurt_code is not None:
        covers = sa.select(NA.network_id).join(table_of(Area), A.id == NA.area_id).where(A.code == buurt_code)
        query = query.where(N.id.in_(covers))
    rows = await session.execute(query.order_by(N.name, N.id).limit(limit))
    return [_network(row) for row in rows]


async def networks_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, NetworkView]:
    query = _statement("networks", lambda: sa.select(*NETWORK_COLUMNS).where(N.id == sa.any_(IDS)))
    return {row.id: _network(row) for row in await _rows(session, query, ids=list(set(ids)))}


async def areas_of_networks(
    session: AsyncSession, network_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[NeighbourhoodView]]:
    query = (
        _neighbourhood_select()
        .add_columns(NA.network_id)
        .join(table_of(NetworkArea), NA.area_id == A.id)
        .where(NA.network_id.in_(network_ids))
        .order_by(A.code)
    )
    grouped: dict[uuid.UUID, list[NeighbourhoodView]] = defaultdict(list)
    for row in await session.execute(query):
        grouped[row.network_id].append(_neighbourhood(row))
    return grouped


async def networks_of_buurten(
    session: AsyncSession, buurt_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[NetworkView]]:
    query = (
        sa.select(*NETWORK_COLUMNS, NA.area_id)
        .join(table_of(NetworkArea), NA.network_id == N.id)
        .where(NA.area_id.in_(buurt_ids))
        .order_by(N.name)
    )
    grouped: dict[uuid.UUID, list[NetworkView]] = defaultdict(list)
    for row in await session.execute(query):
        grouped[row.area_id].append(_network(row))
    return grouped


async def network_area_ids(session: AsyncSession, network_id: uuid.UUID) -> set[uuid.UUID]:
    query = select(NetworkArea.area_id).where(NetworkArea.network_id == network_id)
    return set((await session.scalars(query)).all())


async def lock_network(session: AsyncSession, network_id: uuid.UUID) -> ResidentNetwork | None:
    """The network row, locked: every change of its membership goes through this lock."""
    query = select(ResidentNetwork).where(ResidentNetwork.id == network_id).with_for_update()
    return (await session.scalars(query)).one_or_none()


async def network_name_taken(session: AsyncSession, municipality_id: uuid.UUID, name: str) -> bool:
    query = select(ResidentNetwork.id).where(
        ResidentNetwork.municipality_id == municipality_id, ResidentNetwork.name == name
    )
    return (await session.scalar(query)) is not None


# -- year plans -----------------------------------------------------------------------------------


def _year_plan(row: Any) -> YearPlanView:
    return YearPlanView(
        row.id,
        row.network_id,
        row.year,
        list(row.priorities),
        row.summary,
        row.budget_cents,
        row.granted_cents,
        row.version,
        row.spent_cents,
        row.returned_cents,
    )


_YEAR_PLAN_COLUMNS = (
    YP.id,
    YP.network_id,
    YP.year,
    YP.priorities,
    YP.summary,
    YP.budget_cents,
    YP.granted_cents,
    YP.version,
    YP.spent_cents,
    YP.returned_cents,
)


async def year_plans_of_networks(
    session: AsyncSession, network_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[YearPlanView]]:
    query = sa.select(*_YEAR_PLAN_COLUMNS).where(YP.network_id.in_(network_ids)).order_by(YP.year.desc())
    grouped: dict[uuid.UUID, list[YearPlanView]] = defaultdict(list)
    for row in await session.execute(query):
        grouped[row.network_id].append(_year_plan(row))
    return grouped


async def year_plan_view(session: AsyncSession, year_plan_id: uuid.UUID) -> YearPlanView | None:
    row = (await session.execute(sa.select(*_YEAR_PLAN_COLUMNS).where(YP.id == year_plan_id))).one_or_none()
    return _year_plan(row) if row is not None else None


async def year_plan_id_for(session: AsyncSession, network_id: uuid.UUID, year: int) -> uuid.UUID | None:
    query = select(YearPlan.id).where(YearPlan.network_id == network_id, YearPlan.year == year)
    return await session.scalar(query)


async def lock_year_plan(session: AsyncSession, year_plan_id: uuid.UUID) -> YearPlan | None:
    """The year plan row, locked: grants against it queue here, so the budget check sees every grant."""
    query = select(YearPlan).where(YearPlan.id == year_plan_id).with_for_update()
    return (await session.scalars(query)).one_or_none()


# -- grants ---------------------------------------------------------------------------------------


def _grant_select(viewer: Viewer) -> sa.Select[Any]:
    return (
        sa.select(
            G.id,
            G.initiative_id,
            I.network_id,
            YP.year,
            G.decision,
            G.amount_cents,
            G.decided_at,
            private_value(I.network_id, G.reason, viewer).label("reason"),
            G.meeting_id,
            G.votes_for,
            G.votes_against,
            G.votes_abstain,
            G.public_summary,
        )
        .select_from(table_of(Grant))
        .join(table_of(Initiative), I.id == G.initiative_id)
        .join(table_of(YearPlan), YP.id == G.year_plan_id)
        .where(initiative_visible(viewer))
    )


def _grant(row: Any) -> GrantView:
    return GrantView(
        row.id,
        row.initiative_id,
        row.network_id,
        row.year,
        row.decision,
        row.amount_cents,
        row.decided_at,
        row.reason,
        row.meeting_id,
        row.votes_for,
        row.votes_against,
        row.votes_abstain,
        row.public_summary,
    )


async def grants_of_initiatives(
    session: AsyncSession, viewer: Viewer, initiative_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, GrantView]:
    key = ("grants", viewer.private_networks)
    query = _statement(key, lambda: _grant_select(viewer).where(G.initiative_id == sa.any_(IDS)))
    return {row.initiative_id: _grant(row) for row in await _rows(session, query, ids=list(initiative_ids))}


async def grants_of_networks(
    session: AsyncSession, viewer: Viewer, network_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[GrantView]]:
    query = _grant_select(viewer).where(I.network_id.in_(network_ids)).order_by(G.decided_at.desc())
    grouped: dict[uuid.UUID, list[GrantView]] = defaultdict(list)
    for row in await session.execute(query):
        grouped[row.network_id].append(_grant(row))
    return grouped


# -- themes ---------------------------------------------------------------------------------------


def _themes_query() -> Any:
    return (
        select(Theme.code, Theme.label_nl, Theme.label_en)
        .where(col(Theme.active))
        .order_by(col(Theme.position), col(Theme.code))
    )


async def themes(session: AsyncSession) -> list[ThemeView]:
    return [
        ThemeView(code, nl, en) for code, nl, en in await _rows(session, _statement("themes", _themes_query))
    ]


async def unknown_themes(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    wanted = set(codes)
    if not wanted:
        return set()
    query = select(Theme.code).where(col(Theme.code).in_(wanted), col(Theme.active))
    return wanted - set((await session.scalars(query)).all())


# -- shared with the JSON reads (json_reads.py): one definition of what a viewer sees -------------


def visible_initiatives(viewer: Viewer, flt: InitiativeFilter) -> sa.Select[Any]:
    """What ``viewer`` may see of the initiatives under ``flt``: the loaders' own select."""
    return _filtered(_initiative_select(viewer), flt)


def buurten() -> sa.Select[Any]:
    return _neighbourhood_select()
