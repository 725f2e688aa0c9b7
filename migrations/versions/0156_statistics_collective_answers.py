"""statistics: where collective answers are missing, and plan actions carried by initiatives

``stats_stock_rollup`` gets the team of each row (the household's), so stock measures can also be
published per neighbourhood team, and three sources (issue 13 item 5, issue 15 item 8):

* ``themes_with_offer`` / ``themes_without_offer``: a household's theme, as ``themes``, split by
  whether its buurt has a matching offer: an active service of the sociale kaart carrying the theme
  that serves the buurt (offered at a location in it, or a service area of the buurt, its wijk or the
  whole municipality), or a running resident initiative of the buurt carrying it. The directory keeps
  no history, so the split is the directory as it stands when the rollup is made.
* ``collective_actions``: the plan actions that point to a resident initiative, counted as
  ``plan_actions`` (the version in force; one group per plan version, for the households behind it).

Revision ID: 0156
Revises: 0155
Create Date: 2026-12-07 13:05:00.000000
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0156"
down_revision: str | None = "0155"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = "'Europe/Amsterdam'"


def _migration_0104() -> Any:
    """Migration 0104, whose stock view this one extends (and its downgrade restores)."""
    spec = importlib.util.spec_from_file_location(
        "statistics_0104", Path(__file__).with_name("0104_statistics_burden_and_teams.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stock_0104() -> str:
    before = _migration_0104()
    stock: str = before._rollups_0061().STOCK.replace(before.IN_FORCE_0061, before.IN_FORCE)
    return stock


# A theme of household h (household_themes t, buurt b) has an offer in its buurt.
MATCHED = """(
    EXISTS (
        SELECT 1 FROM directory_services s
        JOIN directory_organizations o ON o.id = s.organization_id
        WHERE s.status = 'active' AND o.municipality_id = b.municipality_id AND t.theme_code = ANY(s.themes)
          AND (EXISTS (SELECT 1 FROM directory_service_at_locations sal
                       JOIN directory_locations l ON l.id = sal.location_id
                       WHERE sal.service_id = s.id AND l.buurt_id = h.buurt_id)
               OR EXISTS (SELECT 1 FROM directory_service_areas sa
                          WHERE sa.service_id = s.id
                            AND (sa.area_id = h.buurt_id OR sa.area_id = b.parent_id OR sa.area_id IS NULL)))
    )
    OR EXISTS (
        SELECT 1 FROM initiatives i
        WHERE i.buurt_id = h.buurt_id AND i.status = 'running' AND t.theme_code = ANY(i.themes)
    )
)"""


# As migration 0104 made it (0061's, plan versions in force until superseded or closed), with the team
# of every row (households' ``team_id``) carried through each step, and the three new sources.
STOCK = f"""
CREATE MATERIALIZED VIEW stats_stock_rollup AS
WITH today AS (SELECT (now() AT TIME ZONE {TZ})::date AS day),
spans AS (
    SELECT 'active'::text AS source, h.buurt_id, h.team_id, 'total'::text AS cat,
           (h.registered_at AT TIME ZONE {TZ})::date AS open_from,
           (h.closed_at AT TIME ZONE {TZ})::date AS open_until,
           NULL::date AS force_until, 1::bigint AS n, NULL::bigint AS g
    FROM households h
    UNION ALL
    SELECT 'themes', h.buurt_id, h.team_id, t.theme_code, (GREATEST(h.registered_at, t.added_at) AT TIME ZONE {TZ})::date,
           (h.closed_at AT TIME ZONE {TZ})::date, NULL, 1, NULL
    FROM households h JOIN household_themes t ON t.household_id = h.id
    UNION ALL
    SELECT 'plan_actions', h.buurt_id, h.team_id, COALESCE(c.cat, 'total'),
           (GREATEST(h.registered_at, pl.created_at) AT TIME ZONE {TZ})::date,
           (h.closed_at AT TIME ZONE {TZ})::date, (COALESCE(pl.superseded_at, pl.closed_at) AT TIME ZONE {TZ})::date, c.n, 1
    FROM (
        SELECT a.plan_id,
               CASE WHEN a.performer_kind IN ('household', 'network_member', 'volunteer') THEN 'informal' ELSE 'professional' END AS cat,
               count(*) AS n
        FROM plan_actions a
        GROUP BY a.plan_id, ROLLUP(2)
    ) c
    JOIN plans pl ON pl.id = c.plan_id
    JOIN households h ON h.id = pl.household_id
    UNION ALL
    SELECT CASE WHEN {MATCHED} THEN 'themes_with_offer' ELSE 'themes_without_offer' END, h.buurt_id, h.team_id,
           t.theme_code, (GREATEST(h.registered_at, t.added_at) AT TIME ZONE {TZ})::date,
           (h.closed_at AT TIME ZONE {TZ})::date, NULL, 1, NULL
    FROM households h JOIN household_themes t ON t.household_id = h.id JOIN areas b ON b.id = h.buurt_id
    UNION ALL
    SELECT 'collective_actions', h.buurt_id, h.team_id, 'total',
           (GREATEST(h.registered_at, pl.created_at) AT TIME ZONE {TZ})::date,
           (h.closed_at AT TIME ZONE {TZ})::date,
           (COALESCE(pl.superseded_at, pl.closed_at) AT TIME ZONE {TZ})::date, c.n, 1
    FROM (
        SELECT a.plan_id, count(*) AS n FROM plan_actions a WHERE a.initiative_id IS NOT NULL GROUP BY a.plan_id
    ) c
    JOIN plans pl ON pl.id = c.plan_id
    JOIN households h ON h.id = pl.household_id
),
months AS (
    SELECT source, buurt_id, team_id, cat, date_trunc('month', open_from::timestamp) AS open_from,
           date_trunc('month', open_until::timestamp) AS open_until,
           date_trunc('month', force_until::timestamp) AS force_until, sum(n) AS n, sum(g) AS g
    FROM spans GROUP BY 1, 2, 3, 4, 5, 6, 7
),
bounds AS (
    SELECT s.source, s.buurt_id, s.team_id, s.cat, g.granularity, g.step, s.n, s.g,
           date_trunc(g.granularity, s.open_from) AS first_p,
           LEAST(date_trunc(g.granularity, s.open_until), date_trunc(g.granularity, s.force_until) - g.step)
               AS last_p
    FROM months s
    CROSS JOIN (VALUES ('month', interval '1 month'), ('quarter', interval '3 months'),
                       ('year', interval '1 year')) AS g(granularity, step)
),
changes AS (
    SELECT source, buurt_id, team_id, cat, granularity, step, first_p AS at, n AS dn, g AS dg
    FROM bounds WHERE last_p IS NULL OR first_p <= last_p
    UNION ALL
    SELECT source, buurt_id, team_id, cat, granularity, step, last_p + step, -n, -g
    FROM bounds WHERE first_p <= last_p
),
netted AS (
    SELECT source, buurt_id, team_id, cat, granularity, step, at, sum(dn) AS dn, sum(dg) AS dg
    FROM changes GROUP BY source, buurt_id, team_id, cat, granularity, step, at
),
running AS (
    SELECT source, buurt_id, team_id, cat, granularity, step, at,
           lead(at) OVER w AS next_at, sum(dn) OVER w AS n, sum(dg) OVER w AS g
    FROM netted
    WINDOW w AS (PARTITION BY source, buurt_id, team_id, cat, granularity ORDER BY at)
)
SELECT r.source, r.buurt_id, r.team_id, r.granularity, p::date AS start_on, r.cat, r.n::bigint AS n, r.g::bigint AS groups
FROM running r
CROSS JOIN today
CROSS JOIN LATERAL generate_series(
    r.at, LEAST(r.next_at - r.step, date_trunc(r.granularity, today.day::timestamp)), r.step) AS p
WHERE r.n > 0
UNION ALL
SELECT 'specialist', h.buurt_id, h.team_id, g.granularity, date_trunc(g.granularity, r.created_at AT TIME ZONE {TZ})::date,
       'total', count(DISTINCT h.id), NULL
FROM referrals r
JOIN households h ON h.id = r.household_id
JOIN partner_organisations o ON o.id = r.organisation_id
CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g(granularity)
WHERE r.direction = 'outbound' AND o.kind IN ('youth_care', 'mental_health')
  AND r.status NOT IN ('declined', 'cancelled')
  AND h.registered_at <= r.created_at AND (h.closed_at IS NULL OR h.closed_at >= r.created_at)
GROUP BY h.buurt_id, h.team_id, g.granularity, 5
"""
STOCK_INDEX = (
    "CREATE UNIQUE INDEX uq_stats_stock_rollup "
    "ON stats_stock_rollup (source, granularity, start_on, buurt_id, team_id, cat)"
)
STOCK_INDEX_0104 = (
    "CREATE UNIQUE INDEX uq_stats_stock_rollup ON stats_stock_rollup (source, granularity, start_on, buurt_id, cat)"
)


def upgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW stats_stock_rollup")
    op.execute(STOCK)
    op.execute(STOCK_INDEX)


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW stats_stock_rollup")
    op.execute(_stock_0104())
    op.execute(STOCK_INDEX_0104)
