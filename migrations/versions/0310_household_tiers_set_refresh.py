"""the household tiers' refresh reads the scores of all its households in one pass, not once per household

Revision ID: 0310
Revises: 0290
Create Date: 2026-12-08 01:40:00

0205's ``household_tiers_refresh`` worked out each household's tier in a LATERAL subquery, planned once
and run once per household of the statement. Where the planner has no statistics of the score tables
(a bulk load writes them in the transaction that reads them: the demo loader's batches of 5,000
households), it planned that subquery as a hash join over a sequential scan of ``assessment_scores``,
so every household of a batch read the whole table: 5,000 reads of 77k rows (3.2M buffers, 186 s) in
the demo's first batch, and each later batch more, as the table grows (the 100,000-household load took
over 20 minutes instead of 2).

Now the refresh joins the statement's households' assessments to their scores once, sorts that set for
the latest score per (household, member, domain) and groups it per household, as the back-fill of 0205
does for every household. Whatever plan the planner picks for that join, it runs once per statement,
so its cost grows with the statement's rows (or at worst the table once), never with households x
table. The rule, the locking (the households' rows first, the scores read in a statement of its own)
and the results are 0205's.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0310"
down_revision: str | None = "0290"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# rules.tier_sql("latest.score") at this revision (as 0205; a test holds the installed text to it).
TIER = (
    "CASE WHEN count(latest.score) = 0 THEN NULL "
    "WHEN bool_or(latest.score = 1) OR count(*) FILTER (WHERE latest.score = 2) >= 3 THEN 'specialist' "
    "WHEN min(latest.score) <= 3 THEN 'support' ELSE 'self_reliant' END"
)

# A household of ``changed`` without scores (left over from the join) gets a NULL tier: its row goes.
SET_REFRESH = f"""
CREATE OR REPLACE FUNCTION household_tiers_refresh(changed uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- One writer per household at a time (see the migration 0205); a household deleted by this
    -- statement is gone here, and gets no row.
    PERFORM 1 FROM households WHERE id = ANY (changed) ORDER BY id FOR NO KEY UPDATE;
    -- All the households' scores in one join (see the migration 0310), not a subquery per household.
    WITH tiers AS (
        SELECT latest.household_id, {TIER} AS tier
          FROM (SELECT DISTINCT ON (a.household_id, a.member_id, s.domain_code) a.household_id, s.score
                  FROM assessments AS a JOIN assessment_scores AS s ON s.assessment_id = a.id
                 WHERE a.household_id = ANY (changed)
                 ORDER BY a.household_id, a.member_id, s.domain_code,
                          a.assessed_on DESC, a.created_at DESC, a.id DESC
               ) AS latest
         GROUP BY latest.household_id
    ), fresh AS (
        SELECT h.id AS household_id, t.tier
          FROM households AS h LEFT JOIN tiers AS t ON t.household_id = h.id
         WHERE h.id = ANY (changed)
    ), cleared AS (
        DELETE FROM household_tiers AS ht USING fresh AS f
         WHERE ht.household_id = f.household_id AND f.tier IS NULL
    )
    INSERT INTO household_tiers (household_id, tier)
    SELECT f.household_id, f.tier FROM fresh AS f WHERE f.tier IS NOT NULL
    ON CONFLICT (household_id) DO UPDATE SET tier = EXCLUDED.tier
     WHERE household_tiers.tier IS DISTINCT FROM EXCLUDED.tier;
END
$$
"""  # noqa: S608 (our own SQL)

# 0205's, restored on the way down.
PER_HOUSEHOLD = f"""
CREATE OR REPLACE FUNCTION household_tiers_refresh(changed uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- One writer per household at a time (see the migration 0205); a household deleted by this
    -- statement is gone here, and gets no row.
    PERFORM 1 FROM households WHERE id = ANY (changed) ORDER BY id FOR NO KEY UPDATE;
    WITH fresh AS (
        SELECT h.id AS household_id, t.tier
          FROM households AS h
         CROSS JOIN LATERAL (
            SELECT {TIER} AS tier
              FROM (SELECT DISTINCT ON (a.member_id, s.domain_code) s.score
                      FROM assessments AS a JOIN assessment_scores AS s ON s.assessment_id = a.id
                     WHERE a.household_id = h.id
                     ORDER BY a.member_id, s.domain_code, a.assessed_on DESC, a.created_at DESC, a.id DESC
                   ) AS latest
         ) AS t
         WHERE h.id = ANY (changed)
    ), cleared AS (
        DELETE FROM household_tiers AS ht USING fresh AS f
         WHERE ht.household_id = f.household_id AND f.tier IS NULL
    )
    INSERT INTO household_tiers (household_id, tier)
    SELECT f.household_id, f.tier FROM fresh AS f WHERE f.tier IS NOT NULL
    ON CONFLICT (household_id) DO UPDATE SET tier = EXCLUDED.tier
     WHERE household_tiers.tier IS DISTINCT FROM EXCLUDED.tier;
END
$$
"""


def upgrade() -> None:
    op.execute(SET_REFRESH)


def downgrade() -> None:
    op.execute(PER_HOUSEHOLD)
