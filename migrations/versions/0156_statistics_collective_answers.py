"""statistics: where collective answers are missing, and plan actions carried by initiatives

``stats_stock_rollup`` gains three sources (issue 13 item 5, issue 15 item 8):

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

SPANS = f"""
    UNION ALL
    SELECT CASE WHEN {MATCHED} THEN 'themes_with_offer' ELSE 'themes_without_offer' END, h.buurt_id,
           t.theme_code, (GREATEST(h.registered_at, t.added_at) AT TIME ZONE {TZ})::date,
           (h.closed_at AT TIME ZONE {TZ})::date, NULL, 1, NULL
    FROM households h JOIN household_themes t ON t.household_id = h.id JOIN areas b ON b.id = h.buurt_id
    UNION ALL
    SELECT 'collective_actions', h.buurt_id, 'total',
           (GREATEST(h.registered_at, pl.created_at) AT TIME ZONE {TZ})::date,
           (h.closed_at AT TIME ZONE {TZ})::date,
           (COALESCE(pl.superseded_at, pl.closed_at) AT TIME ZONE {TZ})::date, c.n, 1
    FROM (
        SELECT a.plan_id, count(*) AS n FROM plan_actions a WHERE a.initiative_id IS NOT NULL GROUP BY a.plan_id
    ) c
    JOIN plans pl ON pl.id = c.plan_id
    JOIN households h ON h.id = pl.household_id"""
END_OF_SPANS = "\n),\nmonths AS ("
STOCK_INDEX = (
    "CREATE UNIQUE INDEX uq_stats_stock_rollup ON stats_stock_rollup (source, granularity, start_on, buurt_id, cat)"
)


def upgrade() -> None:
    before = _stock_0104()
    assert before.count(END_OF_SPANS) == 1
    op.execute("DROP MATERIALIZED VIEW stats_stock_rollup")
    op.execute(before.replace(END_OF_SPANS, SPANS + END_OF_SPANS))
    op.execute(STOCK_INDEX)


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW stats_stock_rollup")
    op.execute(_stock_0104())
    op.execute(STOCK_INDEX)
