"""A team lead's caseload per worker: the open households of their team(s) by coordinator, by status
and by 80-20-5 tier, and the ones without a coordinator. One statement, with its access-log row.

Counts only: no household is shown, so the entry names none. The households counted are those the
lead may see (``visible_to``): a confidential household counts only for leads assigned to it.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from app.db import RawStatement
from app.domain.households.access import takes_case_worker_rule
from app.domain.readmodel.worklist import TIERS, View, fragment, scope_query, teams_in_view_sql
from app.domain.unit_of_work.access_log import AccessAction, inline_cte
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "caseload"

_COUNTS = """(SELECT json_object_agg(x.key, x.n) FROM (
        SELECT ph.{column} AS key, count(*) AS n FROM per_household AS ph
         WHERE ph.coordinator_id IS NOT DISTINCT FROM wk.id GROUP BY ph.{column}) AS x)"""

ANSWER = f"""SELECT (SELECT count(*) FROM logged) AS logged,
       CAST(COALESCE(json_agg(json_build_object(
           'worker_id', wk.id, 'worker_name', wk.name,
           'households', (SELECT count(*) FROM per_household AS ph
                           WHERE ph.coordinator_id IS NOT DISTINCT FROM wk.id),
           'by_status', COALESCE({_COUNTS.format(column="status")}, '{{}}'::json),
           'by_tier', COALESCE({_COUNTS.format(column="tier")}, '{{}}'::json))
         ORDER BY wk.id IS NULL, wk.name, wk.id), '[]') AS text) AS workers
  FROM (SELECT w.id, w.name FROM workers AS w
         WHERE w.id IN (SELECT wt.worker_id FROM worker_teams AS wt
                         WHERE wt.team_id IN (SELECT team_id FROM teams_in_view))
            OR w.id IN (SELECT coordinator_id FROM scope)
        UNION ALL SELECT NULL::uuid, NULL) AS wk"""  # noqa: S608 - our own SQL

# The stored tier of each household (``worklist.TIERS``), 'none' for a household nobody scored yet.
PER_HOUSEHOLD = f"""SELECT h.coordinator_id, h.status, COALESCE(t.tier, 'none') AS tier
  FROM scope AS h LEFT JOIN {TIERS} AS t ON t.household_id = h.id"""  # noqa: S608 - our own SQL


@lru_cache(maxsize=1)
def caseload_statement() -> RawStatement:
    ctes = (
        fragment(teams_in_view_sql(View.team), "team_id").cte("teams_in_view"),
        scope_query(View.team).cte("scope"),
        fragment(PER_HOUSEHOLD, "coordinator_id", "status", "tier").cte("per_household"),
        inline_cte(),
    )
    statement = sa.select(fragment(ANSWER, "logged", "workers").subquery("answer"))
    for cte in ctes:
        statement = statement.add_cte(cte)
    return RawStatement.of(statement)


async def caseload_json(uow: UnitOfWork, principal: Principal, team_id: uuid.UUID | None) -> str:
    """The caseload of the lead's teams (or of ``team_id``, one of them) as a JSON array of
    ``WorkerCaseload``."""
    entry = uow.log(principal, resource=RESOURCE, action=AccessAction.list)
    if not takes_case_worker_rule(principal):
        return "[]"
    values: dict[str, Any] = {
        **entry.params(),
        "worker_id": principal.worker_id,
        "team_id": team_id,
        "coordinator_id": None,
        "unassigned": False,
    }
    row = await uow.fetch_one(caseload_statement(), values)
    uow.written_by_statement(entry)
    return str(row["workers"])
