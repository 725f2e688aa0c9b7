"""a stored 80-20-5 tier per household, kept by triggers where scores are written

Revision ID: 0205
Revises: 0200
Create Date: 2026-12-07 16:35:00

The tier (app/domain/assessments/rules.py, ``tier_sql``) follows from the latest score per (member,
domain) of a household and from nothing else: not from today, not from a member's status, not from the
life domains' settings. So it can be stored and stay right, provided it is worked out again whenever
those scores change. Triggers on ``assessments`` and ``assessment_scores`` do that for every household a
statement touched, after the statement (so a statement that writes an assessment and its scores, or
replaces the scores, is seen whole): a new or corrected assessment (``assessed_on`` decides which score
is the latest), changed scores, a deleted assessment, a deleted member or household (their assessments
go by cascade, which fires the triggers too). No Python write path has to remember it.

Two transactions scoring one household at once must not each store a tier that misses the other's
scores: the refresh first locks the households' rows (FOR NO KEY UPDATE, in id order) and then reads
the scores in a statement of its own, which under READ COMMITTED sees what the other committed.

The rule is copied here as it is at this revision (a migration never imports the app); a test holds
the installed function to ``tier_sql`` so that changing the rule needs a new revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0205"
down_revision: str | None = "0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# rules.tier_sql("latest.score") at this revision.
TIER = (
    "CASE WHEN count(latest.score) = 0 THEN NULL "
    "WHEN bool_or(latest.score = 1) OR count(*) FILTER (WHERE latest.score = 2) >= 3 THEN 'specialist' "
    "WHEN min(latest.score) <= 3 THEN 'support' ELSE 'self_reliant' END"
)

REFRESH = f"""
CREATE FUNCTION household_tiers_refresh(changed uuid[]) RETURNS void LANGUAGE plpgsql AS $$
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

# The households of the rows a statement changed (its transition tables; UPDATE has both, as a row may
# move between households).
OF_ASSESSMENTS = """
CREATE FUNCTION household_tiers_of_assessments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM household_tiers_refresh(ARRAY(
            SELECT household_id FROM old_rows UNION SELECT household_id FROM new_rows));
    ELSE
        PERFORM household_tiers_refresh(ARRAY(SELECT DISTINCT household_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$
"""

OF_SCORES = """
CREATE FUNCTION household_tiers_of_scores() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM household_tiers_refresh(ARRAY(
            SELECT DISTINCT a.household_id FROM new_rows AS s JOIN assessments AS a ON a.id = s.assessment_id));
    ELSIF TG_OP = 'DELETE' THEN
        -- Scores that went with their assessment find none here: the assessments' trigger has them.
        PERFORM household_tiers_refresh(ARRAY(
            SELECT DISTINCT a.household_id FROM old_rows AS s JOIN assessments AS a ON a.id = s.assessment_id));
    ELSE
        PERFORM household_tiers_refresh(ARRAY(
            SELECT a.household_id FROM old_rows AS s JOIN assessments AS a ON a.id = s.assessment_id
            UNION
            SELECT a.household_id FROM new_rows AS s JOIN assessments AS a ON a.id = s.assessment_id));
    END IF;
    RETURN NULL;
END
$$
"""

CLEARED = """
CREATE FUNCTION household_tiers_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM household_tiers;
    RETURN NULL;
END
$$
"""

# (name, table, event, transition tables, function). A new assessment has no scores yet (they follow,
# and their trigger counts), so inserting assessments needs none.
TRIGGERS = (
    ("household_tiers_updated", "assessments", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "household_tiers_of_assessments"),
    ("household_tiers_deleted", "assessments", "DELETE", "OLD TABLE AS old_rows",
     "household_tiers_of_assessments"),
    ("household_tiers_inserted", "assessment_scores", "INSERT", "NEW TABLE AS new_rows",
     "household_tiers_of_scores"),
    ("household_tiers_updated", "assessment_scores", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "household_tiers_of_scores"),
    ("household_tiers_deleted", "assessment_scores", "DELETE", "OLD TABLE AS old_rows",
     "household_tiers_of_scores"),
)  # fmt: skip

# Every household's tier at once (set-based: one sort of all scores, not a probe per household).
BACK_FILL = f"""
INSERT INTO household_tiers (household_id, tier)
SELECT latest.household_id, {TIER}
  FROM (SELECT DISTINCT ON (a.household_id, a.member_id, s.domain_code) a.household_id, s.score
          FROM assessments AS a JOIN assessment_scores AS s ON s.assessment_id = a.id
         ORDER BY a.household_id, a.member_id, s.domain_code, a.assessed_on DESC, a.created_at DESC, a.id DESC
       ) AS latest
 GROUP BY latest.household_id
"""  # noqa: S608


def upgrade() -> None:
    op.create_table(
        "household_tiers",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "tier IN ('self_reliant', 'support', 'specialist')", name=op.f("ck_household_tiers_tier_known")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_tiers_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_tiers")),
    )
    for function in (REFRESH, OF_ASSESSMENTS, OF_SCORES, CLEARED):
        op.execute(function)
    # The triggers first: they lock the score tables against writes until this transaction commits, so
    # no score lands between the back-fill and the triggers.
    for name, table, event, transitions, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(
        "CREATE TRIGGER household_tiers_truncated AFTER TRUNCATE ON assessments "
        "FOR EACH STATEMENT EXECUTE FUNCTION household_tiers_cleared()"
    )
    op.execute(BACK_FILL)


def downgrade() -> None:
    op.execute("DROP TRIGGER household_tiers_truncated ON assessments")
    for name, table, _event, _transitions, _function in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for function in (
        "household_tiers_cleared()",
        "household_tiers_of_scores()",
        "household_tiers_of_assessments()",
        "household_tiers_refresh(uuid[])",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.drop_table("household_tiers")
