"""statistics rollups: materialized views the statistics API reads, refreshed without locking readers

Three rollups at the finest grain the statistics publish, plus a one-row view of when they were
made. ``app/domain/stats/rollups.py`` refreshes all four in one transaction with ``REFRESH
MATERIALIZED VIEW CONCURRENTLY`` (readers keep reading the previous contents meanwhile); each has the
unique index that needs. Local dates are Europe/Amsterdam (app/domain/stats/periods.py).

* ``stats_flow_rollup``: events per source, buurt, resident network (the nil UUID when none), local
  calendar month and category: a count and up to two sums.
* ``stats_stock_rollup``: what was open per source, buurt, month/quarter/year and category. Built
  from start and end *changes* and a running sum per buurt and category (no row x period join); the
  plan-action rows carry the number of actions (``n``) and of households (``groups``), counting the
  one plan version in force at the period's end.
* ``stats_value_rollup``: one value per unit (days to first contact, days to first response, change
  of a self-sufficiency score) with its buurt, local date and category, for medians and means.

Later migrations that change a column these views read must drop and recreate the view.

Revision ID: 0061
Revises: 0070
Create Date: 2026-11-22 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0061"
down_revision: str | Sequence[str] | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = "'Europe/Amsterdam'"
NO_NETWORK = "'00000000-0000-0000-0000-000000000000'::uuid"
INFORMAL = "('household', 'network_member', 'volunteer')"

FLOW = f"""
CREATE MATERIALIZED VIEW stats_flow_rollup AS
SELECT e.source, e.buurt_id, e.network_id, e.month, e.cat,
       count(*) AS n, sum(e.sum_1) AS sum_1, sum(e.sum_2) AS sum_2
FROM (
    SELECT 'registered'::text AS source, h.buurt_id, {NO_NETWORK} AS network_id,
           date_trunc('month', h.registered_at AT TIME ZONE {TZ})::date AS month,
           'total'::text AS cat, NULL::numeric AS sum_1, NULL::numeric AS sum_2
    FROM households h
    UNION ALL
    SELECT 'closed', h.buurt_id, {NO_NETWORK}, date_trunc('month', h.closed_at AT TIME ZONE {TZ})::date,
           COALESCE(h.closing_reason, 'other'), NULL, NULL
    FROM households h WHERE h.closed_at IS NOT NULL
    UNION ALL
    SELECT 'inbound_referrals', r.buurt_id, {NO_NETWORK},
           date_trunc('month', r.created_at AT TIME ZONE {TZ})::date, o.kind, NULL, NULL
    FROM referrals r JOIN partner_organisations o ON o.id = r.organisation_id
    WHERE r.direction = 'inbound' AND r.buurt_id IS NOT NULL
    UNION ALL
    SELECT 'initiatives', i.buurt_id, i.network_id, date_trunc('month', i.created_at AT TIME ZONE {TZ})::date,
           i.status, i.participants_reached, NULL
    FROM initiatives i
    UNION ALL
    SELECT 'grants', i.buurt_id, i.network_id, date_trunc('month', g.decided_at AT TIME ZONE {TZ})::date,
           th.theme, g.amount_cents / 100.0, i.spent_cents / 100.0
    FROM initiative_grants g
    JOIN initiatives i ON i.id = g.initiative_id
    CROSS JOIN LATERAL unnest(i.themes) AS th(theme)
    WHERE g.decision = 'granted'
) e
GROUP BY e.source, e.buurt_id, e.network_id, e.month, e.cat
"""

# spans: one row per counted thing with the local dates it is open (from, until) and, for plan
# versions, until when it is in force; months: the same, grouped by calendar month; changes: +n in
# the first period a span counts in, -n after the last; running: the sum of changes per buurt and
# category, expanded over the periods until the next change.
STOCK = f"""
CREATE MATERIALIZED VIEW stats_stock_rollup AS
WITH today AS (SELECT (now() AT TIME ZONE {TZ})::date AS day),
spans AS (
    SELECT 'active'::text AS source, h.buurt_id, 'total'::text AS cat,
           (h.registered_at AT TIME ZONE {TZ})::date AS open_from,
           (h.closed_at AT TIME ZONE {TZ})::date AS open_until,
           NULL::date AS force_until, 1::bigint AS n, NULL::bigint AS g
    FROM households h
    UNION ALL
    SELECT 'themes', h.buurt_id, t.theme_code, (GREATEST(h.registered_at, t.added_at) AT TIME ZONE {TZ})::date,
           (h.closed_at AT TIME ZONE {TZ})::date, NULL, 1, NULL
    FROM households h JOIN household_themes t ON t.household_id = h.id
    UNION ALL
    SELECT 'plan_actions', h.buurt_id, COALESCE(c.cat, 'total'),
           (GREATEST(h.registered_at, pl.created_at) AT TIME ZONE {TZ})::date,
           (h.closed_at AT TIME ZONE {TZ})::date, (pl.superseded_at AT TIME ZONE {TZ})::date, c.n, 1
    FROM (
        SELECT a.plan_id,
               CASE WHEN a.performer_kind IN {INFORMAL} THEN 'informal' ELSE 'professional' END AS cat,
               count(*) AS n
        FROM plan_actions a
        GROUP BY a.plan_id, ROLLUP(2)
    ) c
    JOIN plans pl ON pl.id = c.plan_id
    JOIN households h ON h.id = pl.household_id
),
months AS (
    SELECT source, buurt_id, cat, date_trunc('month', open_from::timestamp) AS open_from,
           date_trunc('month', open_until::timestamp) AS open_until,
           date_trunc('month', force_until::timestamp) AS force_until, sum(n) AS n, sum(g) AS g
    FROM spans GROUP BY 1, 2, 3, 4, 5, 6
),
bounds AS (
    SELECT s.source, s.buurt_id, s.cat, g.granularity, g.step, s.n, s.g,
           date_trunc(g.granularity, s.open_from) AS first_p,
           LEAST(date_trunc(g.granularity, s.open_until), date_trunc(g.granularity, s.force_until) - g.step)
               AS last_p
    FROM months s
    CROSS JOIN (VALUES ('month', interval '1 month'), ('quarter', interval '3 months'),
                       ('year', interval '1 year')) AS g(granularity, step)
),
changes AS (
    SELECT source, buurt_id, cat, granularity, step, first_p AS at, n AS dn, g AS dg
    FROM bounds WHERE last_p IS NULL OR first_p <= last_p
    UNION ALL
    SELECT source, buurt_id, cat, granularity, step, last_p + step, -n, -g
    FROM bounds WHERE first_p <= last_p
),
netted AS (
    SELECT source, buurt_id, cat, granularity, step, at, sum(dn) AS dn, sum(dg) AS dg
    FROM changes GROUP BY source, buurt_id, cat, granularity, step, at
),
running AS (
    SELECT source, buurt_id, cat, granularity, step, at,
           lead(at) OVER w AS next_at, sum(dn) OVER w AS n, sum(dg) OVER w AS g
    FROM netted
    WINDOW w AS (PARTITION BY source, buurt_id, cat, granularity ORDER BY at)
)
SELECT r.source, r.buurt_id, r.granularity, p::date AS start_on, r.cat, r.n::bigint AS n, r.g::bigint AS groups
FROM running r
CROSS JOIN today
CROSS JOIN LATERAL generate_series(
    r.at, LEAST(r.next_at - r.step, date_trunc(r.granularity, today.day::timestamp)), r.step) AS p
WHERE r.n > 0
UNION ALL
SELECT 'specialist', h.buurt_id, g.granularity, date_trunc(g.granularity, r.created_at AT TIME ZONE {TZ})::date,
       'total', count(DISTINCT h.id), NULL
FROM referrals r
JOIN households h ON h.id = r.household_id
JOIN partner_organisations o ON o.id = r.organisation_id
CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g(granularity)
WHERE r.direction = 'outbound' AND o.kind IN ('youth_care', 'mental_health')
  AND r.status NOT IN ('declined', 'cancelled')
  AND h.registered_at <= r.created_at AND (h.closed_at IS NULL OR h.closed_at >= r.created_at)
GROUP BY h.buurt_id, g.granularity, 4
"""

VALUE = f"""
CREATE MATERIALIZED VIEW stats_value_rollup AS
SELECT 'first_contact'::text AS source, h.id::text AS row_id, h.buurt_id,
       (h.registered_at AT TIME ZONE {TZ})::date AS day, 'total'::text AS cat, h.id AS unit_id,
       GREATEST(0, (fc.first_at AT TIME ZONE {TZ})::date - (h.registered_at AT TIME ZONE {TZ})::date)::numeric
           AS value
FROM households h
JOIN (SELECT c.household_id, min(c.occurred_at) AS first_at FROM contact_moments c GROUP BY c.household_id) fc
  ON fc.household_id = h.id
UNION ALL
SELECT 'first_response', r.id::text, COALESCE(r.buurt_id, h.buurt_id), (r.created_at AT TIME ZONE {TZ})::date,
       'total', r.id, EXTRACT(EPOCH FROM fr.first_at - r.created_at) / 86400.0
FROM referrals r
LEFT JOIN households h ON h.id = r.household_id
JOIN (
    SELECT t.referral_id, t.side, min(t.occurred_at) AS first_at FROM referral_transitions t
    WHERE t.from_status IS NOT NULL GROUP BY t.referral_id, t.side
) fr ON fr.referral_id = r.id AND fr.side = CASE r.direction WHEN 'inbound' THEN 'team' ELSE 'partner' END
WHERE COALESCE(r.buurt_id, h.buurt_id) IS NOT NULL
UNION ALL
SELECT 'self_sufficiency', concat_ws(':', se.household_id, se.member_id, se.domain_code), h.buurt_id,
       (h.closed_at AT TIME ZONE {TZ})::date, se.domain_code, h.id, (se.last_score - se.first_score)::numeric
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
"""

STATE = "CREATE MATERIALIZED VIEW stats_rollup_state AS SELECT now() AS refreshed_at"

INDEXES = [
    "CREATE UNIQUE INDEX uq_stats_flow_rollup ON stats_flow_rollup (source, month, buurt_id, network_id, cat)",
    "CREATE UNIQUE INDEX uq_stats_stock_rollup ON stats_stock_rollup (source, granularity, start_on, buurt_id, cat)",
    "CREATE UNIQUE INDEX uq_stats_value_rollup ON stats_value_rollup (source, row_id)",
    "CREATE INDEX ix_stats_value_rollup_day ON stats_value_rollup (source, day)",
    "CREATE UNIQUE INDEX uq_stats_rollup_state ON stats_rollup_state (refreshed_at)",
]

VIEWS = ("stats_rollup_state", "stats_value_rollup", "stats_stock_rollup", "stats_flow_rollup")


def upgrade() -> None:
    for statement in (FLOW, STOCK, VALUE, STATE, *INDEXES):
        op.execute(statement)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {view}")
