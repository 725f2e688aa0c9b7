"""statistics: the administrative burden in the value rollup, per team as well; closed plans end

``stats_value_rollup`` gets the team of each value (the household's, or the referral's) and six new
sources: the write requests and fields of each household's intake (``intake_burden``), the days from
first contact to its first agreed plan, and per household and month the write requests, the minutes
of its contact moments and the requests per hour of contact. ``stats_stock_rollup`` counts a plan
version in force until it is superseded or closed (plans can be closed since 0102).

Revision ID: 0104
Revises: 0103
Create Date: 2026-11-23 10:00:00.000000
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0104"
down_revision: str | None = "0103"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = "'Europe/Amsterdam'"


def _rollups_0061() -> Any:
    """The views as migration 0061 made them (the downgrade restores them; the stock view changes
    in one place only)."""
    spec = importlib.util.spec_from_file_location("rollups_0061", Path(__file__).with_name("0061_statistics_rollups.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _local(column: str) -> str:
    return f"({column} AT TIME ZONE {TZ})::date"


VALUE = f"""
CREATE MATERIALIZED VIEW stats_value_rollup AS
WITH contact_months AS (
    SELECT c.household_id, date_trunc('month', c.occurred_at AT TIME ZONE {TZ})::date AS month,
           sum(c.minutes) AS minutes
    FROM contact_moments c GROUP BY 1, 2
)
SELECT 'first_contact'::text AS source, h.id::text AS row_id, h.buurt_id, h.team_id,
       {_local("h.registered_at")} AS day, 'total'::text AS cat, h.id AS unit_id,
       GREATEST(0, {_local("fc.first_at")} - {_local("h.registered_at")})::numeric AS value
FROM households h
JOIN (SELECT c.household_id, min(c.occurred_at) AS first_at FROM contact_moments c GROUP BY c.household_id) fc
  ON fc.household_id = h.id
UNION ALL
SELECT 'first_response', r.id::text, COALESCE(r.buurt_id, h.buurt_id), COALESCE(h.team_id, r.team_id),
       {_local("r.created_at")}, 'total', r.id, EXTRACT(EPOCH FROM fr.first_at - r.created_at) / 86400.0
FROM referrals r
LEFT JOIN households h ON h.id = r.household_id
JOIN (
    SELECT t.referral_id, t.side, min(t.occurred_at) AS first_at FROM referral_transitions t
    WHERE t.from_status IS NOT NULL GROUP BY t.referral_id, t.side
) fr ON fr.referral_id = r.id AND fr.side = CASE r.direction WHEN 'inbound' THEN 'team' ELSE 'partner' END
WHERE COALESCE(r.buurt_id, h.buurt_id) IS NOT NULL
UNION ALL
SELECT 'self_sufficiency', concat_ws(':', se.household_id, se.member_id, se.domain_code), h.buurt_id, h.team_id,
       {_local("h.closed_at")}, se.domain_code, h.id, (se.last_score - se.first_score)::numeric
FROM households h
JOIN (
    SELECT household_id, member_id, domain_code, first_score, last_score
    FROM (
        SELECT a.household_id, a.member_id, s.domain_code,
               first_value(s.score) OVER w AS first_score, last_value(s.score) OVER w AS last_score,
               row_number() OVER w AS position, count(*) OVER w AS scored
        FROM assessments a
        JOIN assessment_scores s ON s.assessment_id = a.id
        JOIN households sh ON sh.id = a.household_id
        WHERE sh.closed_at IS NOT NULL
        WINDOW w AS (PARTITION BY a.household_id, a.member_id, s.domain_code
                     ORDER BY a.assessed_on, a.created_at, a.id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ) ranked
    WHERE position = 1 AND scored >= 2
) se ON se.household_id = h.id
WHERE h.closed_at IS NOT NULL
UNION ALL
SELECT 'intake_requests', h.id::text, h.buurt_id, h.team_id, {_local("ib.plan_agreed_at")}, 'total', h.id,
       ib.write_requests::numeric
FROM intake_burden ib JOIN households h ON h.id = ib.household_id
WHERE ib.plan_agreed_at IS NOT NULL
UNION ALL
SELECT 'intake_fields', h.id::text, h.buurt_id, h.team_id, {_local("ib.plan_agreed_at")}, 'total', h.id,
       ib.fields_entered::numeric
FROM intake_burden ib JOIN households h ON h.id = ib.household_id
WHERE ib.plan_agreed_at IS NOT NULL
UNION ALL
SELECT 'days_to_agreed_plan', h.id::text, h.buurt_id, h.team_id, {_local("fa.agreed_at")}, 'total', h.id,
       GREATEST(0, {_local("fa.agreed_at")} - {_local("LEAST(h.registered_at, fc.first_at)")})::numeric
FROM households h
JOIN (SELECT p.household_id, min(p.agreed_at) AS agreed_at FROM plans p
       WHERE p.agreed_at IS NOT NULL GROUP BY p.household_id) fa ON fa.household_id = h.id
LEFT JOIN (SELECT c.household_id, min(c.occurred_at) AS first_at FROM contact_moments c
            GROUP BY c.household_id) fc ON fc.household_id = h.id
UNION ALL
SELECT 'monthly_write_requests', concat_ws(':', m.household_id, m.month), h.buurt_id, h.team_id, m.month,
       'total', h.id, m.write_requests::numeric
FROM case_write_months m JOIN households h ON h.id = m.household_id
UNION ALL
SELECT 'monthly_contact_minutes', concat_ws(':', cm.household_id, cm.month), h.buurt_id, h.team_id, cm.month,
       'total', h.id, cm.minutes::numeric
FROM contact_months cm JOIN households h ON h.id = cm.household_id
UNION ALL
SELECT 'writes_per_contact_hour', concat_ws(':', m.household_id, m.month), h.buurt_id, h.team_id, m.month,
       'total', h.id, round(m.write_requests / (cm.minutes / 60.0), 2)
FROM case_write_months m
JOIN contact_months cm ON cm.household_id = m.household_id AND cm.month = m.month
JOIN households h ON h.id = m.household_id
WHERE cm.minutes > 0
"""

INDEXES = [
    "CREATE UNIQUE INDEX uq_stats_value_rollup ON stats_value_rollup (source, row_id)",
    "CREATE INDEX ix_stats_value_rollup_day ON stats_value_rollup (source, day)",
]
STOCK_INDEX = (
    "CREATE UNIQUE INDEX uq_stats_stock_rollup ON stats_stock_rollup (source, granularity, start_on, buurt_id, cat)"
)
IN_FORCE_0061 = f"(pl.superseded_at AT TIME ZONE {TZ})::date, c.n, 1"
IN_FORCE = f"(COALESCE(pl.superseded_at, pl.closed_at) AT TIME ZONE {TZ})::date, c.n, 1"


def upgrade() -> None:
    before = _rollups_0061()
    assert IN_FORCE_0061 in before.STOCK
    op.execute("DROP MATERIALIZED VIEW stats_value_rollup")
    op.execute("DROP MATERIALIZED VIEW stats_stock_rollup")
    op.execute(VALUE)
    op.execute(before.STOCK.replace(IN_FORCE_0061, IN_FORCE))
    for statement in (*INDEXES, STOCK_INDEX):
        op.execute(statement)


def downgrade() -> None:
    before = _rollups_0061()
    op.execute("DROP MATERIALIZED VIEW stats_value_rollup")
    op.execute("DROP MATERIALIZED VIEW stats_stock_rollup")
    op.execute(before.VALUE)
    op.execute(before.STOCK)
    for statement in (*INDEXES, STOCK_INDEX):
        op.execute(statement)
