"""Queries over the access log and the break-glass grants (read-only: the log is append-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.audit.schemas import AuditFilters
from app.domain.base import table_of, utcnow
from app.domain.households.models import BreakGlassGrant, Household
from app.domain.identity.models import OAuthClient, User
from app.domain.organisation.models import PartnerOrganisation, Worker
from app.domain.unit_of_work import partitions
from app.domain.unit_of_work.access_log import AccessLogEntry

Cursor = tuple[datetime, uuid.UUID]

_log = table_of(AccessLogEntry)
_users = table_of(User)
_clients = table_of(OAuthClient)
_organisations = table_of(PartnerOrganisation)


def _actor_joins() -> Any:
    return (
        _log.outerjoin(_users, sa.cast(_users.c.id, sa.String) == _log.c.actor_subject)
        .outerjoin(_clients, _clients.c.client_id == _log.c.actor_subject)
        .outerjoin(_organisations, _organisations.c.id == _log.c.organisation_id)
    )


_ACTOR_NAME = sa.func.coalesce(_users.c.display_name, _clients.c.name).label("actor_name")


def _page(query: Any, limit: int, after: Cursor | None) -> Any:
    if after is not None:
        # The row comparison keeps the order; the bound on the moment alone lets PostgreSQL leave out
        # the months after the cursor (it prunes partitions on the partition key, not on a row).
        query = query.where(
            sa.tuple_(_log.c.occurred_at, _log.c.id) < sa.tuple_(*after), _log.c.occurred_at <= after[0]
        )
    return query.order_by(_log.c.occurred_at.desc(), _log.c.id.desc()).limit(limit)


async def _newest_first(
    session: AsyncSession,
    query: Any,
    *,
    limit: int,
    after: Cursor | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[RowMapping]:
    """A page of the log, newest first, read the recent months first (``partitions.newest_first``)."""

    async def read(bound: sa.ColumnElement[bool], count: int) -> list[RowMapping]:
        return list((await session.execute(_page(query.where(bound), count, after))).mappings())

    upper = min(moment for moment in (after[0] if after else None, until, utcnow()) if moment is not None)
    return await partitions.newest_first(read, _log.c.occurred_at, limit=limit, upper=upper, lower=since)


def _where(filters: AuditFilters) -> list[sa.ColumnElement[bool]]:
    c = _log.c
    clauses: list[sa.ColumnElement[bool]] = []
    for value, column in (
        (filters.person_id, c.person_id),
        (filters.worker_id, c.actor_worker_id),
        (filters.household_id, c.household_id),
        (filters.actor_subject, c.actor_subject),
        (filters.action, c.action),
        (filters.outcome, c.outcome),
    ):
        if value is not None:
            clauses.append(column == (str(value) if isinstance(value, StrEnum) else value))
    if filters.since is not None:
        clauses.append(c.occurred_at >= filters.since)
    if filters.until is not None:
        clauses.append(c.occurred_at < filters.until)
    return clauses


async def entries(
    session: AsyncSession, filters: AuditFilters, *, limit: int, after: Cursor | None
) -> list[RowMapping]:
    query = sa.select(*_log.c, _ACTOR_NAME).select_from(_actor_joins()).where(*_where(filters))
    return await _newest_first(
        session, query, limit=limit, after=after, since=filters.since, until=filters.until
    )


async def file_entries(
    session: AsyncSession, household_id: uuid.UUID, *, limit: int, after: Cursor | None
) -> list[RowMapping]:
    query = (
        sa.select(
            _log.c.id,
            _log.c.occurred_at,
            _ACTOR_NAME,
            _log.c.actor_role,
            _organisations.c.name.label("organisation_name"),
            _log.c.resource,
            _log.c.action,
            _log.c.purpose,
            _log.c.outcome,
            _log.c.reason,
            _log.c.person_id,
        )
        .select_from(_actor_joins())
        .where(_log.c.household_id == household_id)
    )
    return await _newest_first(session, query, limit=limit, after=after)


async def subject_entries(
    session: AsyncSession, member_ids: Sequence[uuid.UUID], household_ids: Sequence[uuid.UUID]
) -> list[RowMapping]:
    """Every row about these people or their households, oldest first (for an export)."""
    query = (
        sa.select(*_log.c, _ACTOR_NAME)
        .select_from(_actor_joins())
        .where(sa.or_(_log.c.person_id.in_(member_ids), _log.c.household_id.in_(household_ids)))
        .order_by(_log.c.occurred_at, _log.c.id)
    )
    return list((await session.execute(query)).mappings())


async def break_glass_events(
    session: AsyncSession,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    after: Cursor | None,
) -> list[RowMapping]:
    query: Any = (
        sa.select(
            col(BreakGlassGrant.id),
            col(BreakGlassGrant.household_id),
            col(Household.reference).label("household_reference"),
            col(BreakGlassGrant.worker_id),
            col(Worker.name).label("worker_name"),
            col(BreakGlassGrant.reason),
            col(BreakGlassGrant.granted_at),
            col(BreakGlassGrant.expires_at),
        )
        .join(Household, col(Household.id) == col(BreakGlassGrant.household_id))
        .join(Worker, col(Worker.id) == col(BreakGlassGrant.worker_id))
    )
    if since is not None:
        query = query.where(col(BreakGlassGrant.granted_at) >= since)
    if until is not None:
        query = query.where(col(BreakGlassGrant.granted_at) < until)
    if after is not None:
        query = query.where(
            sa.tuple_(col(BreakGlassGrant.granted_at), col(BreakGlassGrant.id)) < sa.tuple_(*after)
        )
    query = query.order_by(col(BreakGlassGrant.granted_at).desc(), col(BreakGlassGrant.id).desc()).limit(
        limit
    )
    return list((await session.execute(query)).mappings())
