"""Every statistics query. PostgreSQL aggregates; Python only receives one row per figure.

Each measure is a *source* (one row per event, open case, scored series, ...: buurt, time, category,
value) wrapped in one of three templates that group it by area with ``ROLLUP(wijk, buurt)`` (buurt,
wijk and gemeente in one pass), by period and by category. Every query is scoped to one municipality
through the buurt of the row. Sources and templates are constants: only values are bound.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.organisation.models import Area, Municipality
from app.domain.reference.models import LifeDomain, Theme
from app.domain.stats.catalogue import TOTAL, Level
from app.domain.stats.periods import LOCAL_TIME_ZONE, Granularity

# Flow sources: buurt_id, ts (when it happened), cat, amount.
# Stock sources: buurt_id, start_ts, end_ts (null: still open), cat, unit_id.
# Statistic sources: buurt_id, ts, cat, unit_id (what the group size counts), value.
SOURCES: dict[str, str] = {
    "households_registered": """
        SELECT h.buurt_id, h.registered_at AS ts, 'total' AS cat, NULL::bigint AS amount
        FROM households h""",
    "households_closed": """
        SELECT h.buurt_id, h.closed_at AS ts, h.closing_reason AS cat, NULL::bigint AS amount
        FROM households h WHERE h.closed_at IS NOT NULL""",
    "households_active": """
        SELECT h.buurt_id, h.registered_at AS start_ts, h.closed_at AS end_ts, 'total' AS cat,
               h.id AS unit_id
        FROM households h""",
    "households_by_theme": """
        SELECT h.buurt_id, GREATEST(h.registered_at, t.added_at) AS start_ts, h.closed_at AS end_ts,
               t.theme_code AS cat, h.id AS unit_id
        FROM households h JOIN household_themes t ON t.household_id = h.id""",
    "days_to_first_contact": """
        SELECT h.buurt_id, h.registered_at AS ts, 'total' AS cat, h.id AS unit_id,
               GREATEST(0, (fc.first_at AT TIME ZONE :tz)::date
                           - (h.registered_at AT TIME ZONE :tz)::date) AS value
        FROM households h
        CROSS JOIN LATERAL (
            SELECT min(c.occurred_at) AS first_at FROM contact_moments c WHERE c.household_id = h.id
        ) fc
        WHERE fc.first_at IS NOT NULL""",
    "referrals_inbound": """
        SELECT r.buurt_id, r.created_at AS ts, o.kind AS cat, NULL::bigint AS amount
        FROM referrals r JOIN partner_organisations o ON o.id = r.organisation_id
        WHERE r.direction = 'inbound' AND r.buurt_id IS NOT NULL""",
    "households_specialist_referral": """
        SELECT h.buurt_id, r.created_at AS start_ts, r.created_at AS end_ts, 'total' AS cat,
               h.id AS unit_id
        FROM referrals r
        JOIN households h ON h.id = r.household_id
        JOIN partner_organisations o ON o.id = r.organisation_id
        WHERE r.direction = 'outbound' AND o.kind IN ('youth_care', 'mental_health')
          AND r.status NOT IN ('declined', 'cancelled')
          AND h.registered_at <= r.created_at AND (h.closed_at IS NULL OR h.closed_at >= r.created_at)""",
    "days_to_first_response": """
        SELECT COALESCE(r.buurt_id, h.buurt_id) AS buurt_id, r.created_at AS ts, 'total' AS cat,
               r.id AS unit_id, EXTRACT(EPOCH FROM fr.first_at - r.created_at) / 86400.0 AS value
        FROM referrals r
        LEFT JOIN households h ON h.id = r.household_id
        CROSS JOIN LATERAL (
            SELECT min(t.occurred_at) AS first_at FROM referral_transitions t
            WHERE t.referral_id = r.id AND t.from_status IS NOT NULL
              AND t.side = CASE r.direction WHEN 'inbound' THEN 'team' ELSE 'partner' END
        ) fr
        WHERE fr.first_at IS NOT NULL""",
    "self_sufficiency_change": """
        SELECT h.buurt_id, h.closed_at AS ts, se.domain_code AS cat, h.id AS unit_id,
               se.last_score - se.first_score AS value
        FROM households h
        JOIN (
            SELECT a.household_id, s.domain_code,
                   (array_agg(s.score ORDER BY a.assessed_on, a.created_at, a.id))[1] AS first_score,
                   (array_agg(s.score ORDER BY a.assessed_on DESC, a.created_at DESC, a.id DESC))[1]
                       AS last_score
            FROM assessments a
            JOIN assessment_scores s ON s.assessment_id = a.id
            JOIN households sh ON sh.id = a.household_id
            JOIN areas sb ON sb.id = sh.buurt_id AND sb.municipality_id = :municipality
            WHERE sh.closed_at IS NOT NULL
            GROUP BY a.household_id, a.member_id, s.domain_code
            HAVING count(*) >= 2
        ) se ON se.household_id = h.id
        WHERE h.closed_at IS NOT NULL""",
    "initiatives": """
        SELECT i.buurt_id, i.created_at AS ts, i.status AS cat, NULL::bigint AS amount
        FROM initiatives i""",
    "initiative_participants": """
        SELECT i.buurt_id, i.created_at AS ts, i.status AS cat, i.participants_reached AS amount
        FROM initiatives i""",
    "initiative_budget_granted": """
        SELECT i.buurt_id, g.decided_at AS ts, th.theme AS cat, g.amount_cents / 100.0 AS amount
        FROM initiative_grants g
        JOIN initiatives i ON i.id = g.initiative_id
        CROSS JOIN LATERAL unnest(i.themes) AS th(theme)
        WHERE g.decision = 'granted'""",
}


_FLOW = """
WITH src AS ({source}),
d AS (
    SELECT s.buurt_id, s.cat, s.amount,
           date_trunc('month', s.ts AT TIME ZONE :tz)::date AS m,
           date_trunc('quarter', s.ts AT TIME ZONE :tz)::date AS q,
           date_trunc('year', s.ts AT TIME ZONE :tz)::date AS y
    FROM src s WHERE s.ts >= :lo AND s.ts < :hi
)
SELECT GROUPING(b.parent_id, b.id) AS area_grouping, b.parent_id AS wijk_id, b.id AS buurt_id,
       GROUPING(d.q, d.m) AS period_grouping, d.y, d.q, d.m,
       GROUPING(d.cat) AS category_grouping, d.cat, count(*) AS n, sum(d.amount) AS value
FROM d JOIN areas b ON b.id = d.buurt_id AND b.level = 'buurt'
WHERE b.municipality_id = :municipality
GROUP BY d.y, ROLLUP(d.q, d.m), ROLLUP(b.parent_id, b.id), {categories}
"""

_STOCK = """
WITH src AS ({source})
SELECT GROUPING(b.parent_id, b.id) AS area_grouping, b.parent_id AS wijk_id, b.id AS buurt_id,
       p.start_on, GROUPING(s.cat) AS category_grouping, s.cat,
       {count} AS n, NULL::numeric AS value
FROM src s
JOIN areas b ON b.id = s.buurt_id AND b.level = 'buurt'
JOIN unnest(CAST(:starts AS date[]), CAST(:ends AS date[])) AS p(start_on, end_on)
  ON (s.start_ts AT TIME ZONE :tz)::date < p.end_on
 AND (s.end_ts IS NULL OR (s.end_ts AT TIME ZONE :tz)::date >= p.start_on)
WHERE b.municipality_id = :municipality
GROUP BY p.start_on, ROLLUP(b.parent_id, b.id), {categories}
"""

_STATISTIC = """
WITH src AS ({source})
SELECT GROUPING(b.parent_id, b.id) AS area_grouping, b.parent_id AS wijk_id, b.id AS buurt_id,
       p.start_on, GROUPING(s.cat) AS category_grouping, s.cat,
       {count} AS n, {aggregate} AS value
FROM src s
JOIN areas b ON b.id = s.buurt_id AND b.level = 'buurt'
JOIN unnest(CAST(:starts AS date[]), CAST(:ends AS date[])) AS p(start_on, end_on)
  ON (s.ts AT TIME ZONE :tz)::date >= p.start_on AND (s.ts AT TIME ZONE :tz)::date < p.end_on
WHERE b.municipality_id = :municipality
GROUP BY p.start_on, ROLLUP(b.parent_id, b.id), {categories}
"""

# Sources where one unit (a household) can appear more than once per group; the others count rows,
# which spares PostgreSQL a sort per grouping set.
_REPEATED_UNITS = frozenset({"households_specialist_referral", "self_sufficiency_change"})

AGGREGATES = {
    "median": "percentile_cont(0.5) WITHIN GROUP (ORDER BY s.value)",
    "mean": "avg(s.value)",
}


@dataclass(frozen=True)
class AreaNode:
    id: uuid.UUID | None  # None for the gemeente itself
    code: str
    name: str
    level: Level
    parent_code: str | None


@dataclass(frozen=True)
class Figure:
    """One aggregate row: a group count ``n`` and, for statistics and amounts, a ``value``."""

    level: Level
    area_id: uuid.UUID | None
    period_start: date
    granularity: Granularity
    category: str
    n: int
    value: float | None


# -- areas ------------------------------------------------------------------------------------------


async def municipality_of_area(session: AsyncSession, code: str) -> Municipality | None:
    """The municipality an area code (GM, WK or BU) belongs to."""
    found = await session.scalar(select(Municipality).where(col(Municipality.code) == code))
    if found is not None:
        return found
    return await session.scalar(
        select(Municipality)
        .join(Area, col(Area.municipality_id) == col(Municipality.id))
        .where(col(Area.code) == code)
    )


async def only_municipality(session: AsyncSession) -> Municipality | None:
    """The municipality of a deployment that serves exactly one; None when there are several."""
    rows = (await session.scalars(select(Municipality).limit(2))).all()
    return rows[0] if len(rows) == 1 else None


async def area_tree(session: AsyncSession, municipality: Municipality) -> list[AreaNode]:
    """The gemeente, its wijken and buurten; a buurt outside any wijk hangs under the gemeente."""
    areas = (
        await session.scalars(
            select(Area).where(col(Area.municipality_id) == municipality.id).order_by(col(Area.code))
        )
    ).all()
    codes = {a.id: a.code for a in areas}
    nodes = [AreaNode(None, municipality.code, municipality.name, Level.gemeente, None)]
    for area in areas:
        parent = codes.get(area.parent_id) if area.parent_id else None
        level = Level.wijk if area.level == "wijk" else Level.buurt
        nodes.append(AreaNode(area.id, area.code, area.name, level, parent or municipality.code))
    return nodes


async def reference_codes(session: AsyncSession, reference: str) -> list[str]:
    table: Any = Theme if reference == "themes" else LifeDomain
    rows = await session.scalars(select(table.code).order_by(table.position, table.code))
    return list(rows)


# -- figures ----------------------------------------------------------------------------------------


def _categories(alias: str, with_total: bool) -> str:
    return f"ROLLUP({alias}.cat)" if with_total else f"{alias}.cat"


async def flow_figures(
    session: AsyncSession,
    measure_id: str,
    municipality_id: uuid.UUID,
    *,
    lo: datetime,
    hi: datetime,
    with_total: bool,
) -> list[Figure]:
    """Counts (and sums) for every buurt, wijk and the gemeente, every month, quarter and year."""
    sql = _FLOW.format(source=SOURCES[measure_id], categories=_categories("d", with_total))
    params = {"lo": lo, "hi": hi, "municipality": municipality_id, "tz": LOCAL_TIME_ZONE}
    result = await session.execute(text(sql), params)
    figures = []
    for row in result.mappings():
        granularity, start = _flow_period(row)
        figures.append(_figure(row, start, granularity))
    return figures


async def grouped_figures(
    session: AsyncSession,
    measure_id: str,
    municipality_id: uuid.UUID,
    *,
    periods: list[tuple[date, date]],
    granularity: Granularity,
    with_total: bool,
    aggregate: str | None = None,
) -> list[Figure]:
    """Stock counts (``aggregate`` None) or a statistic per area, per given period."""
    parts = {
        "source": SOURCES[measure_id],
        "categories": _categories("s", with_total),
        "count": "count(DISTINCT s.unit_id)" if measure_id in _REPEATED_UNITS else "count(*)",
    }
    if aggregate is None:
        sql = _STOCK.format(**parts)
    else:
        sql = _STATISTIC.format(**parts, aggregate=AGGREGATES[aggregate])
    params = {
        "starts": [p[0] for p in periods],
        "ends": [p[1] for p in periods],
        "municipality": municipality_id,
        "tz": LOCAL_TIME_ZONE,
    }
    result = await session.execute(text(sql), params)
    return [_figure(row, row["start_on"], granularity) for row in result.mappings()]


def _flow_period(row: Any) -> tuple[Granularity, date]:
    grouping = row["period_grouping"]
    if grouping == 0:
        return Granularity.month, row["m"]
    if grouping == 1:
        return Granularity.quarter, row["q"]
    return Granularity.year, row["y"]


def _figure(row: Any, start: date, granularity: Granularity) -> Figure:
    grouping = row["area_grouping"]
    if grouping == 0:
        level, area_id = Level.buurt, row["buurt_id"]
    elif grouping == 1:
        level, area_id = Level.wijk, row["wijk_id"]
    else:
        level, area_id = Level.gemeente, None
    category = TOTAL if row["category_grouping"] else row["cat"]
    value = row["value"]
    return Figure(level, area_id, start, granularity, category, int(row["n"]), _number(value))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
