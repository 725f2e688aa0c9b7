"""The household list (``GET /api/v1/households``): the caller's households, newest first, as one
JSON page made by PostgreSQL, with the access-log row, in one statement.

Walks each of the worker's teams down the (team, created_at) index and stops at the page size
(instead of sorting the whole caseload). The page is ``Page[HouseholdRead]``; a test checks the bytes
against that model.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import col

from app.db import RawStatement
from app.domain.documents import api_json, constant, json_object
from app.domain.households.access import CASE_WORKER, case_worker_rule, takes_case_worker_rule
from app.domain.households.models import Household
from app.domain.households.repository import FILTER_TYPES, household_filter, household_select
from app.domain.households.schemas import HouseholdRead
from app.domain.organisation.models import WorkerTeam
from app.domain.unit_of_work.access_log import AccessAction, inline_cte
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "household"


def household_json(row: Any) -> Any:
    """One ``HouseholdRead`` as a JSON object, in its field order."""
    return json_object(HouseholdRead, {name: row.c[name] for name in HouseholdRead.model_fields})


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
    fetch = sa.bindparam("limit", type_=sa.Integer) + constant("1")
    newest = (col(Household.created_at).desc(), col(Household.id).desc())
    per_team = household_select(where).order_by(*newest).limit(fetch).lateral("per_team")
    order = (per_team.c.created_at.desc(), per_team.c.id.desc())
    page = (
        sa.select(per_team, sa.func.row_number().over(order_by=order).label("n"))
        .select_from(teams)
        .join(per_team, sa.true())
        .order_by(*order)
        .limit(fetch)
        .cte("page")
    )
    limit = sa.bindparam("limit", type_=sa.Integer)
    # One access-log row per household shown: each household's log lists the page that showed it.
    logged = inline_cte(each_of="SELECT id AS household_id FROM page WHERE n <= :limit", binds=(limit,))
    in_page = page.c.n <= limit
    items = sa.func.json_agg(aggregate_order_by(household_json(page), page.c.n)).filter(in_page)
    is_last = page.c.n == limit
    statement = sa.select(
        sa.select(sa.func.count()).select_from(logged).scalar_subquery().label("logged"),
        sa.func.count().label("found"),
        sa.cast(sa.func.coalesce(items, sa.text("'[]'::json")), sa.Text).label("items"),
        sa.func.max(page.c.created_at).filter(is_last).label("last_created_at"),
        sa.func.array_agg(page.c.id).filter(is_last).label("last_id"),  # one id, or NULL
    ).select_from(page)
    # ``logged`` reads ``page``: WITH must name the page first.
    return RawStatement.of(statement.add_cte(page).add_cte(logged))


@dataclass(frozen=True)
class HouseholdPage:
    items: bytes  # a JSON array of HouseholdRead, made by PostgreSQL
    last: tuple[datetime, uuid.UUID] | None  # the key of the last item when more follow


async def household_page_json(
    uow: UnitOfWork,
    principal: Principal,
    filters: dict[str, Any],
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> HouseholdPage:
    """The caller's households (``filters``: ``households.service.HouseholdFilters.given()``), with the
    access-log row (action list) written by the same statement."""
    entry = uow.log(principal, resource=RESOURCE, action=AccessAction.list)
    if not takes_case_worker_rule(principal):  # visible_to is false for them: nothing to list
        return HouseholdPage(b"[]", None)
    statement = household_page(frozenset(filters), after is not None)
    values = {**entry.params(), **filters, "worker_id": principal.worker_id, "limit": limit}
    if after is not None:
        values |= {"after_created_at": after[0], "after_id": after[1]}
    row = await uow.fetch_one(statement, values)
    uow.written_by_statement(entry)
    last = (row["last_created_at"], row["last_id"][0]) if row["found"] > limit else None
    return HouseholdPage(api_json(str(row["items"])), last)
