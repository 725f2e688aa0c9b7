"""Every query of the household case file. Hot reads select columns (no ORM hydration); each list is
one statement whatever its length (themes and names are joined or aggregated in SQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col, select

from app.domain.audit.models import AccessLogEntry
from app.domain.households.access import CASE_ROLES, visible_to
from app.domain.households.models import (
    BreakGlassGrant,
    ContactMoment,
    Household,
    HouseholdAssignment,
    HouseholdTheme,
    Member,
)
from app.domain.organisation.models import Area, AreaLevel, TeamArea, Worker, WorkerTeam
from app.domain.reference.models import Theme
from app.security.principal import Principal
from app.security.scopes import Role
from app.settings import Settings

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


def _household_select(where: Where) -> Any:
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
    query = _household_select(where)
    if after is not None:
        query = query.where(sa.tuple_(col(Household.created_at), col(Household.id)) < sa.tuple_(*after))
    query = query.order_by(col(Household.created_at).desc(), col(Household.id).desc())
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).mappings())


async def household_row(session: AsyncSession, household_id: uuid.UUID) -> RowMapping | None:
    rows = await household_rows(session, [col(Household.id) == household_id])
    return rows[0] if rows else None


async def buurt_and_team(session: AsyncSession, code: str) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    """(area id, covering team id) of a known buurt, or None."""
    query = (
        sa.select(col(Area.id), col(TeamArea.team_id))
        .outerjoin(TeamArea, col(TeamArea.area_id) == col(Area.id))
        .where(col(Area.code) == code, col(Area.level) == str(AreaLevel.buurt))
    )
    row = (await session.execute(query)).one_or_none()
    return (row[0], row[1]) if row is not None else None


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


async def assignment_rows(session: AsyncSession, household_id: uuid.UUID) -> list[RowMapping]:
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


async def member_rows(session: AsyncSession, where: Where) -> list[RowMapping]:
    query = sa.select(*_MEMBER_COLUMNS).where(*where).order_by(col(Member.created_at), col(Member.id))
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


# -- hot reads: one statement on a pooled driver connection -----------------------------------------
#
# The team app's busiest reads (household overview, household list) run as ONE statement that checks
# access with the same rule as everything else (``access.visible_to``, compiled once with the worker as
# a parameter), writes the request's access-log row in a data-modifying CTE and returns ready-made JSON.
# A single statement is atomic, so no BEGIN/COMMIT round trips; no ORM, no pydantic on the way out.
# ``RawStatement`` keeps the SQL text and the order of its parameters (the benchmark floor reuses it).
# ``HotReads`` runs them on a small asyncpg pool of their own.

CASE_WORKER = sa.bindparam("worker_id", type_=sa.Uuid)
_ASYNCPG = postgresql_asyncpg.dialect()
# The access-log columns a request fills in (``audit.service.record`` makes the values); outcome apart.
LOG_FIELDS = (
    "id", "actor_subject", "actor_role", "actor_worker_id", "client_id", "organisation_id", "household_id",
    "person_id", "resource", "resource_id", "action", "purpose", "reason", "request_id",
)  # fmt: skip


def takes_hot_path(principal: Principal) -> bool:
    """Case workers, for whom ``visible_to`` is the worker rule; anyone else gets the general path."""
    return principal.role in CASE_ROLES and principal.worker_id is not None


def case_worker_rule() -> sa.ColumnElement[bool]:
    """``access.visible_to`` of any case worker, with the worker id as the parameter ``worker_id``."""
    template = Principal(
        subject="",
        role=Role.generalist,
        scopes=frozenset(),
        client_id="",
        worker_id=cast(uuid.UUID, CASE_WORKER),
    )
    return visible_to(template)


def access_logged(outcome: sa.ColumnElement[str]) -> Any:
    """A data-modifying CTE ``logged`` writing one access-log row from the ``log_*`` parameters."""
    columns = AccessLogEntry.__table__.c  # type: ignore[attr-defined]
    values = [sa.bindparam(f"log_{name}", type_=columns[name].type) for name in LOG_FIELDS]
    return (
        sa.insert(AccessLogEntry)
        .from_select([*LOG_FIELDS, "outcome"], sa.select(*values, outcome), include_defaults=False)
        .returning(col(AccessLogEntry.outcome))
        .cte("logged")
    )


def log_values(entry: dict[str, Any]) -> dict[str, Any]:
    """The ``log_*`` parameters of an entry made by ``audit.service.record``."""
    return {f"log_{name}": entry[name] for name in LOG_FIELDS}


@dataclass(frozen=True)
class RawStatement:
    """A statement compiled once for asyncpg: ``$n`` placeholders and the parameter names in order."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, statement: Any) -> RawStatement:
        compiled = statement.compile(dialect=_ASYNCPG)
        names = tuple(compiled.positiontup or ())
        constants = [n for n in names if not compiled.binds[n].required]
        if constants:  # every value comes from the caller: constants belong in the SQL text (_sql)
            raise ValueError(f"bound constants in a raw statement: {constants}")
        return cls(str(compiled), names)

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] for name in self.names]


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


def _sql(literal: str) -> Any:
    """A constant of this module's own SQL (never a caller's value), written into the statement."""
    return sa.literal_column(literal)


def _iso(column: Any) -> Any:
    """A timestamp as pydantic writes it: UTC, ``Z``, microseconds only when there are any."""
    utc = sa.func.timezone(_sql("'UTC'"), column)
    whole = sa.func.to_char(utc, _sql('\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''))
    fraction = sa.func.to_char(utc, _sql('\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''))
    return sa.case((sa.extract("microseconds", column) % _sql("1000000") == _sql("0"), whole), else_=fraction)


def _household_json(row: Any) -> Any:
    """One ``HouseholdRead`` as a JSON object, in its field order."""
    fields: list[Any] = []
    for name in HOUSEHOLD_READ_FIELDS:
        value = row.c[name]
        fields += [_sql(f"'{name}'"), _iso(value) if name in _TIMESTAMPS else value]
    return sa.func.json_build_object(*fields)


HOUSEHOLD_READ_FIELDS = (
    "id", "reference", "team_id", "buurt_code", "postcode", "house_number", "house_number_addition",
    "coordinator_id", "coordinator_name", "status", "confidential", "closing_reason", "themes",
    "registered_at", "closed_at", "version", "created_at", "updated_at",
)  # fmt: skip
_TIMESTAMPS = frozenset({"registered_at", "closed_at", "created_at", "updated_at"})


@lru_cache(maxsize=64)
def household_page(filters: frozenset[str], after: bool) -> RawStatement:
    """The caller's households, newest first, as one JSON page, with the access-log row.

    Walks each of the worker's teams down the (team, created_at) index and stops at the page size
    (instead of sorting the whole caseload); parameters: worker_id, limit, the given filters, and
    after_created_at/after_id with a cursor. Returns logged, found (rows, up to limit + 1), items
    (the first ``limit`` as JSON text) and the created_at and [id] of the last item."""
    teams = (
        sa.select(col(WorkerTeam.team_id).label("team_id"))
        .where(col(WorkerTeam.worker_id) == CASE_WORKER)
        .subquery("own_teams")
    )
    where = [case_worker_rule(), col(Household.team_id) == teams.c.team_id]
    where += [
        household_filter(name, sa.bindparam(name, type_=FILTER_TYPES[name])) for name in sorted(filters)
    ]
    if after:
        moment = sa.bindparam("after_created_at", type_=sa.DateTime(timezone=True))
        last = sa.bindparam("after_id", type_=sa.Uuid)
        where += [
            col(Household.created_at) <= moment,  # an index bound the row comparison alone does not give
            sa.tuple_(col(Household.created_at), col(Household.id)) < sa.tuple_(moment, last),
        ]
    fetch = sa.bindparam("limit", type_=sa.Integer) + _sql("1")
    newest = (col(Household.created_at).desc(), col(Household.id).desc())
    per_team = _household_select(where).order_by(*newest).limit(fetch).lateral("per_team")
    order = (per_team.c.created_at.desc(), per_team.c.id.desc())
    page = (
        sa.select(per_team, sa.func.row_number().over(order_by=order).label("n"))
        .select_from(teams)
        .join(per_team, sa.true())
        .order_by(*order)
        .limit(fetch)
        .cte("page")
    )
    logged = access_logged(_sql("'allowed'"))
    limit = sa.bindparam("limit", type_=sa.Integer)
    in_page = page.c.n <= limit
    items = sa.func.json_agg(aggregate_order_by(_household_json(page), page.c.n)).filter(in_page)
    is_last = page.c.n == limit
    statement = sa.select(
        sa.select(sa.func.count()).select_from(logged).scalar_subquery().label("logged"),
        sa.func.count().label("found"),
        sa.cast(sa.func.coalesce(items, sa.text("'[]'::json")), sa.Text).label("items"),
        sa.func.max(page.c.created_at).filter(is_last).label("last_created_at"),
        sa.func.array_agg(page.c.id).filter(is_last).label("last_id"),  # one id, or NULL
    ).select_from(page)
    return RawStatement.of(statement)


class HotReads:
    """The hot statements' own small asyncpg pool (one per process, opened by the case-file router's
    lifespan): a statement per request with no SQLAlchemy session around it, no pool ping (SQLAlchemy's
    is BEGIN, ";", ROLLBACK: three round trips) and no reset on release (a single statement in
    autocommit leaves nothing behind). ``engine`` is for the rare write that needs a transaction."""

    def __init__(self, pool: Any, engine: AsyncEngine) -> None:
        self.pool = pool
        self.engine = engine

    @classmethod
    async def open(cls, engine: AsyncEngine, settings: Settings) -> HotReads:
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=settings.db_pool_size,
            reset=_nothing_to_reset,
            timeout=5,
            server_settings={
                "statement_timeout": str(settings.statement_timeout_ms),
                "application_name": "wijkwerk",
            },
        )
        return cls(pool, engine)

    async def close(self) -> None:
        await self.pool.close()

    async def fetch_one(self, statement: RawStatement, values: dict[str, Any]) -> Any:
        """The one row (an asyncpg Record, or None) of a hot statement."""
        # As long as SQLAlchemy's pool waits (pool_timeout); a timeout or a dead server answers 503.
        async with self.pool.acquire(timeout=10) as connection:
            return await connection.fetchrow(statement.sql, *statement.args(values))


async def _nothing_to_reset(connection: Any) -> None:
    return None
