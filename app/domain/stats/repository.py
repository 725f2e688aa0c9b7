"""Every statistics query. The figures are read from the rollups (materialized views, migration 0061;
see rollups.py), grouped by area with ``ROLLUP(wijk, buurt)`` (buurt, wijk and gemeente in one pass,
plus the resident networks for initiative measures), by period and by category. PostgreSQL returns one
row per figure; Python only applies disclosure control. Every query is scoped to one municipality
through the buurt of the row. Statements are constants: only values are bound.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import numpy as np
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.domain.reference.models import LifeDomain, Theme
from app.domain.stats.catalogue import TOTAL, Level
from app.domain.stats.periods import Granularity

NO_NETWORK = uuid.UUID(int=0)  # the rollup's network of events that belong to none
# to_char formats of the period keys: 2025, 2025-Q1, 2025-01 (periods.Period.key)
PERIOD_FORMATS = {Granularity.year: "YYYY", Granularity.quarter: 'YYYY-"Q"Q', Granularity.month: "YYYY-MM"}

# Finest-grain rows as positions in the caller's lists (1-based), one array per column: a few
# thousand rows cross the wire as six int arrays. Buurten outside the list (another municipality) and
# categories outside it are not read; a network outside it is -1, no network 0.
_FLOW_LEAVES = """
SELECT array_agg(a.i::int) AS area, array_agg(COALESCE(nw.i::int, (r.network_id <> :no_network)::int * -1))
           AS network,
       array_agg((extract(year FROM r.month)::int - :first_year) * 12 + extract(month FROM r.month)::int)
           AS month,
       array_agg(c.i::int) AS category, array_agg(r.n::int) AS n, array_agg({value}::float8) AS value
FROM stats_flow_rollup r
JOIN unnest(CAST(:buurten AS uuid[])) WITH ORDINALITY AS a(id, i) ON a.id = r.buurt_id
JOIN unnest(CAST(:categories AS text[])) WITH ORDINALITY AS c(code, i) ON c.code = r.cat
LEFT JOIN unnest(CAST(:networks AS uuid[])) WITH ORDINALITY AS nw(id, i) ON nw.id = r.network_id
WHERE r.source = :source AND r.month >= :lo AND r.month < :hi
"""

# Per row also the team (a position in :teams; 0 for a team outside the list, or when none are asked).
_STOCK_LEAVES = """
SELECT array_agg(a.i::int) AS area, array_agg(p.i::int) AS period, array_agg(c.i::int) AS category,
       array_agg(r.n::int) AS n, array_agg(COALESCE(r.groups, 0)::int) AS groups,
       array_agg(COALESCE(tm.i::int, 0)) AS team
FROM stats_stock_rollup r
JOIN unnest(CAST(:buurten AS uuid[])) WITH ORDINALITY AS a(id, i) ON a.id = r.buurt_id
JOIN unnest(CAST(:starts AS date[])) WITH ORDINALITY AS p(start_on, i) ON p.start_on = r.start_on
JOIN unnest(CAST(:categories AS text[])) WITH ORDINALITY AS c(code, i) ON c.code = r.cat
LEFT JOIN unnest(CAST(:teams AS uuid[])) WITH ORDINALITY AS tm(id, i) ON tm.id = r.team_id
WHERE r.source = :source AND r.granularity = :granularity AND r.start_on = ANY(CAST(:starts AS date[]))
"""

_STATISTIC = """
SELECT GROUPING(b.parent_id, v.buurt_id) AS area_grouping, b.parent_id, v.buurt_id, NULL::uuid AS network_id,
       to_char(p.start_on, :format) AS period, v.cat, {count} AS n, ({aggregate})::float8 AS value,
       NULL::bigint AS groups
FROM stats_value_rollup v
JOIN areas b ON b.id = v.buurt_id
JOIN unnest(CAST(:starts AS date[]), CAST(:ends AS date[])) AS p(start_on, end_on)
  ON v.day >= p.start_on AND v.day < p.end_on
WHERE v.source = :source AND v.day >= :lo AND v.day < :hi AND b.municipality_id = :municipality
GROUP BY p.start_on, v.cat, ROLLUP(b.parent_id, v.buurt_id)
"""

AGGREGATES = {
    "median": "percentile_cont(0.5) WITHIN GROUP (ORDER BY v.value)",
    "mean": "avg(v.value)",
}
_AREA_LEVEL = {0: Level.buurt, 1: Level.wijk, 3: Level.gemeente}  # GROUPING(parent, buurt)

# The quartiles of a value per group: a row per statistic (the category), for every area level and,
# in a grouping set of its own, per team (of the municipality: teams of its buurten' households).
_QUARTILES = """
SELECT GROUPING(b.parent_id, v.buurt_id, v.team_id) AS area_grouping, b.parent_id, v.buurt_id,
       v.team_id AS network_id, to_char(p.start_on, :format) AS period, q.stat AS cat,
       count(DISTINCT v.unit_id) AS n,
       percentile_cont(q.fraction) WITHIN GROUP (ORDER BY v.value)::float8 AS value, NULL::bigint AS groups
FROM stats_value_rollup v
JOIN areas b ON b.id = v.buurt_id
JOIN unnest(CAST(:starts AS date[]), CAST(:ends AS date[])) AS p(start_on, end_on)
  ON v.day >= p.start_on AND v.day < p.end_on
CROSS JOIN (VALUES ('p25', 0.25::float8), ('median', 0.5::float8), ('p75', 0.75::float8)) AS q(stat, fraction)
WHERE v.source = :source AND v.day >= :lo AND v.day < :hi AND b.municipality_id = :municipality
GROUP BY p.start_on, q.stat, q.fraction,
         GROUPING SETS ((b.parent_id, v.buurt_id), (b.parent_id), (), (v.team_id))
"""
# GROUPING(parent, buurt, team): the area levels with the team aggregated, and the team set.
_QUARTILE_LEVEL = {1: Level.buurt, 3: Level.wijk, 7: Level.gemeente, 6: Level.team}


class AreaNode(NamedTuple):
    id: uuid.UUID | None  # None for the gemeente itself
    code: str  # CBS code; a network's id
    name: str
    level: Level
    parent_code: str | None


class Figure(NamedTuple):
    """One aggregate row: a count ``n`` and, for statistics and amounts, a ``value``; ``groups`` is
    the number of households behind a count of plan actions."""

    level: Level
    area_id: uuid.UUID | None  # None for the gemeente
    period: str  # Period.key
    category: str
    n: int
    value: float | None
    groups: int | None


# -- areas ------------------------------------------------------------------------------------------


class MunicipalityRef(NamedTuple):
    id: uuid.UUID
    code: str
    name: str


class Context(NamedTuple):
    """What a statistics request depends on besides the figures: read in one statement."""

    municipality: MunicipalityRef
    areas: list[AreaNode]  # the gemeente first, then wijken and buurten by code
    networks: list[AreaNode]
    teams: list[AreaNode]
    categories: list[str] | None  # the reference list a breakdown uses, when asked for
    refreshed_at: datetime


_CONTEXT = """
WITH m AS (
    SELECT mu.id, mu.code, mu.name FROM municipalities mu
    WHERE CASE WHEN CAST(:code AS text) IS NULL THEN (SELECT count(*) FROM municipalities) = 1
               ELSE mu.code = :code OR mu.id = (SELECT a.municipality_id FROM areas a WHERE a.code = :code)
          END
    LIMIT 1
)
SELECT m.id, m.code, m.name,
       (SELECT s.refreshed_at FROM stats_rollup_state s) AS refreshed_at,
       (SELECT json_agg(json_build_array(a.id, a.code, a.name, a.level, a.parent_id) ORDER BY a.code)
        FROM areas a WHERE a.municipality_id = m.id) AS areas,
       CASE WHEN :networks THEN
           (SELECT json_agg(json_build_array(n.id, n.name) ORDER BY n.name, n.id)
            FROM resident_networks n WHERE n.municipality_id = m.id) END AS networks,
       CASE WHEN :teams THEN
           (SELECT json_agg(json_build_array(t.id, t.name) ORDER BY t.name, t.id)
            FROM teams t WHERE t.municipality_id = m.id) END AS teams,
       CASE CAST(:reference AS text)
           WHEN 'themes' THEN (SELECT json_agg(t.code ORDER BY t.position, t.code) FROM themes t)
           WHEN 'life_domains' THEN (SELECT json_agg(d.code ORDER BY d.position, d.code) FROM life_domains d)
       END AS categories
FROM m
"""


def _json(value: Any) -> Any:
    """A json column: decoded by the driver's codec, or still text."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


async def context(
    session: AsyncSession, area: str | None, *, networks: bool, reference: str | None, teams: bool = False
) -> Context | None:
    """The municipality of an area code (or the only one when ``area`` is None), its areas, its
    networks and teams (when asked), a reference list (when asked) and when the rollups were made;
    None when there is no such municipality."""
    params = {"code": area, "networks": networks, "reference": reference, "teams": teams}
    row = (await session.execute(text(_CONTEXT), params)).one_or_none()
    if row is None:
        return None
    municipality = MunicipalityRef(row.id, row.code, row.name)
    nodes = [AreaNode(None, row.code, row.name, Level.gemeente, None)]
    found = _json(row.areas) or []
    codes = {a[0]: a[1] for a in found}
    for area_id, code, name, level, parent in found:
        kind = Level.wijk if level == "wijk" else Level.buurt
        nodes.append(AreaNode(uuid.UUID(area_id), code, name, kind, codes.get(parent) or row.code))
    network_nodes = [
        AreaNode(uuid.UUID(n_id), n_id, name, Level.network, row.code)
        for n_id, name in _json(row.networks) or []
    ]
    team_nodes = [
        AreaNode(uuid.UUID(t_id), t_id, name, Level.team, row.code) for t_id, name in _json(row.teams) or []
    ]
    categories = _json(row.categories) or ([] if reference else None)
    refreshed = row.refreshed_at or datetime.min.replace(tzinfo=UTC)
    return Context(municipality, nodes, network_nodes, team_nodes, categories, refreshed)


async def reference_codes(session: AsyncSession, reference: str) -> list[str]:
    table: Any = Theme if reference == "themes" else LifeDomain
    rows = await session.scalars(select(table.code).order_by(table.position, table.code))
    return list(rows)


# -- figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaves:
    """Finest-grain rows as 0-based positions in the lists the query was given, and their figures.

    ``network`` is -1 for a network outside the list and None for queries without networks."""

    area: np.ndarray
    period: np.ndarray
    category: np.ndarray
    n: np.ndarray
    value: np.ndarray | None = None
    groups: np.ndarray | None = None
    network: np.ndarray | None = None
    team: np.ndarray | None = None  # stocks: 0-based positions in the teams asked for, -1 for none


def _positions(values: list[int] | None) -> np.ndarray:
    return np.asarray(values or [], np.int64) - 1


async def flow_leaves(
    session: AsyncSession,
    source: str,
    *,
    buurten: list[uuid.UUID],
    networks: list[uuid.UUID],
    categories: list[str],
    first_year: int,
    lo: date,
    hi: date,
    value: str | None = None,
    by_network: bool = False,
) -> Leaves:
    """Counts (and a sum) per buurt, month and category (and network, with ``by_network``) for the
    months ``lo <= month < hi``; ``period`` counts months from January of ``first_year``."""
    sql = _FLOW_LEAVES.format(value={"sum_1": "r.sum_1", "sum_2": "r.sum_2"}.get(value or "", "NULL"))
    params = {
        "source": source,
        "buurten": buurten,
        "networks": networks,
        "categories": categories,
        "first_year": first_year,
        "lo": lo,
        "hi": hi,
        "no_network": NO_NETWORK,
    }
    row = (await session.execute(text(sql), params)).one()
    network = np.asarray(row.network or [], np.int64)
    return Leaves(
        area=_positions(row.area),
        period=_positions(row.month),
        category=_positions(row.category),
        n=np.asarray(row.n or [], np.int64),
        value=np.asarray([v or 0.0 for v in row.value or []], np.float64),
        network=np.where(network > 0, network - 1, network) if by_network else None,
    )


async def stock_leaves(
    session: AsyncSession,
    source: str,
    *,
    buurten: list[uuid.UUID],
    categories: list[str],
    granularity: Granularity,
    starts: list[date],
    teams: list[uuid.UUID] | None = None,
) -> Leaves:
    """What was open per buurt (and team, with ``teams``), given period and category (the rollup holds
    totals where needed)."""
    params = {
        "source": source,
        "buurten": buurten,
        "categories": categories,
        "granularity": str(granularity),
        "starts": starts,
        "teams": teams or [],
    }
    row = (await session.execute(text(_STOCK_LEAVES), params)).one()
    return Leaves(
        area=_positions(row.area),
        period=_positions(row.period),
        category=_positions(row.category),
        n=np.asarray(row.n or [], np.int64),
        groups=np.asarray(row.groups or [], np.int64),
        team=_positions(row.team) if teams is not None else None,
    )


async def value_figures(
    session: AsyncSession,
    source: str,
    municipality_id: uuid.UUID,
    *,
    periods: list[tuple[date, date]],
    granularity: Granularity,
    aggregate: str,
    distinct: bool,
) -> list[Figure]:
    """A median or mean per area, period and category, with the group's size."""
    sql = _STATISTIC.format(
        count="count(DISTINCT v.unit_id)" if distinct else "count(*)", aggregate=AGGREGATES[aggregate]
    )
    params = {
        "source": source,
        "starts": [p[0] for p in periods],
        "ends": [p[1] for p in periods],
        "lo": min(p[0] for p in periods),
        "hi": max(p[1] for p in periods),
        "format": PERIOD_FORMATS[granularity],
        "municipality": municipality_id,
    }
    return _figures(await session.execute(text(sql), params), _AREA_LEVEL)


async def quartile_figures(
    session: AsyncSession,
    source: str,
    municipality_id: uuid.UUID,
    *,
    periods: list[tuple[date, date]],
    granularity: Granularity,
) -> list[Figure]:
    """The quartiles (category p25, median, p75) per area, team and period, with the group's size
    in households."""
    params = {
        "source": source,
        "starts": [p[0] for p in periods],
        "ends": [p[1] for p in periods],
        "lo": min(p[0] for p in periods),
        "hi": max(p[1] for p in periods),
        "format": PERIOD_FORMATS[granularity],
        "municipality": municipality_id,
    }
    return _figures(await session.execute(text(_QUARTILES), params), _QUARTILE_LEVEL)


def _figures(result: Any, levels: dict[int, Level]) -> list[Figure]:
    figures = []
    for grouping, wijk, buurt, network, period, cat, n, value, groups in result:
        level = levels.get(grouping)
        if level is None:
            continue
        # The fourth column holds the network, or the team for the quartile measures.
        area = {Level.buurt: buurt, Level.wijk: wijk, Level.network: network, Level.team: network}.get(level)
        figures.append(Figure(level, area, period, cat or TOTAL, n, value, groups))
    return figures
