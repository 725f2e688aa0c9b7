"""resident networks decide in meetings; the year plan's money adds up in an append-only ledger

Revision ID: 0165
Revises: 0160
Create Date: 2026-12-07 13:00:00

Decision rules per network (quorum, resident share of those present, anonymous voting); meetings and
who was present; a grant's meeting, tally and public summary, and the ballots (votes and recusals for
a conflict of interest). The year plan gains reported spent and returned totals and a ledger of every
movement of its available budget, back-filled from what is there: the budget, each grant and, for
completed initiatives that reported what they spent, the unspent rest returned.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0165"
down_revision: str | None = "0160"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _decision_rules() -> None:
    op.add_column(
        "resident_networks", sa.Column("quorum_members", sa.Integer(), server_default="3", nullable=False)
    )
    op.add_column(
        "resident_networks",
        sa.Column("resident_share_percent", sa.Integer(), server_default="50", nullable=False),
    )
    op.add_column(
        "resident_networks",
        sa.Column("anonymous_voting", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_resident_networks_quorum_members"), "resident_networks", "quorum_members BETWEEN 1 AND 200"
    )
    op.create_check_constraint(
        op.f("ck_resident_networks_resident_share_percent"),
        "resident_networks",
        "resident_share_percent BETWEEN 50 AND 100",
    )


def _meetings() -> None:
    op.create_table(
        "network_meetings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("network_id", sa.Uuid(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("present_count", sa.Integer(), nullable=False),
        sa.Column("resident_count", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "resident_count >= 0 AND resident_count <= present_count", name=op.f("ck_network_meetings_counts")
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["resident_networks.id"],
            name=op.f("fk_network_meetings_network_id_resident_networks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
            name=op.f("fk_network_meetings_recorded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_meetings")),
    )
    op.create_index("ix_network_meetings_network_held", "network_meetings", ["network_id", "held_on"])
    op.create_table(
        "meeting_attendance",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("is_resident", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["network_meetings.id"],
            name=op.f("fk_meeting_attendance_meeting_id_network_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["network_members.id"],
            name=op.f("fk_meeting_attendance_member_id_network_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendance")),
        sa.UniqueConstraint("meeting_id", "member_id", name="uq_meeting_attendance_member"),
    )
    op.create_index(op.f("ix_meeting_attendance_meeting_id"), "meeting_attendance", ["meeting_id"])


def _decisions() -> None:
    op.add_column("initiative_grants", sa.Column("meeting_id", sa.Uuid(), nullable=True))
    op.add_column("initiative_grants", sa.Column("votes_for", sa.Integer(), nullable=True))
    op.add_column("initiative_grants", sa.Column("votes_against", sa.Integer(), nullable=True))
    op.add_column("initiative_grants", sa.Column("votes_abstain", sa.Integer(), nullable=True))
    op.add_column(
        "initiative_grants",
        sa.Column("public_summary", sqlmodel.sql.sqltypes.AutoString(length=280), nullable=True),
    )
    op.create_foreign_key(
        op.f("fk_initiative_grants_meeting_id_network_meetings"),
        "initiative_grants",
        "network_meetings",
        ["meeting_id"],
        ["id"],
    )
    op.create_index(op.f("ix_initiative_grants_meeting_id"), "initiative_grants", ["meeting_id"])
    op.create_check_constraint(
        op.f("ck_initiative_grants_tally_of_meeting"),
        "initiative_grants",
        "meeting_id IS NULL OR (votes_for >= 0 AND votes_against >= 0 AND votes_abstain >= 0)",
    )
    op.create_table(
        "grant_ballots",
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("attendance_id", sa.Uuid(), nullable=False),
        sa.Column("ballot", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("conflict", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.CheckConstraint(
            "ballot IN ('for', 'against', 'abstain', 'recused')", name=op.f("ck_grant_ballots_ballot_allowed")
        ),
        sa.CheckConstraint(
            "(ballot = 'recused') = (conflict IS NOT NULL)",
            name=op.f("ck_grant_ballots_recusal_has_conflict"),
        ),
        sa.ForeignKeyConstraint(
            ["attendance_id"],
            ["meeting_attendance.id"],
            name=op.f("fk_grant_ballots_attendance_id_meeting_attendance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["initiative_grants.id"],
            name=op.f("fk_grant_ballots_grant_id_initiative_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("grant_id", "attendance_id", name=op.f("pk_grant_ballots")),
    )
    op.create_index(op.f("ix_grant_ballots_attendance_id"), "grant_ballots", ["attendance_id"])


APPEND_ONLY = (
    """
CREATE FUNCTION year_plan_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'year_plan_ledger is append-only: add a correcting entry instead'
        USING ERRCODE = 'restrict_violation';
END $$
""",
    """
CREATE TRIGGER year_plan_ledger_append_only BEFORE UPDATE ON year_plan_ledger
    FOR EACH ROW EXECUTE FUNCTION year_plan_ledger_append_only()
""",
)

# What is there becomes the ledger's opening entries, in the order it happened.
BACKFILL = (
    """
UPDATE year_plans yp SET
    spent_cents = r.spent, returned_cents = r.returned
FROM (
    -- An initiative that reported more than its grant spent its grant and returned nothing.
    SELECT year_plan_id, sum(least(spent_cents, granted_cents)) AS spent,
           sum(greatest(granted_cents - spent_cents, 0)) AS returned
    FROM initiatives
    WHERE status = 'completed' AND spent_cents IS NOT NULL AND granted_cents IS NOT NULL
      AND year_plan_id IS NOT NULL
    GROUP BY year_plan_id
) r
WHERE r.year_plan_id = yp.id
""",
    """
INSERT INTO year_plan_ledger (id, year_plan_id, kind, amount_cents, balance_after_cents, initiative_id,
                              recorded_by, created_at)
-- The opening budget comes first whatever its timestamp: a plan made after its grants were decided
-- (history loaded into a new plan) would otherwise run below zero.
SELECT gen_random_uuid(), year_plan_id, kind, amount,
       sum(amount) OVER (PARTITION BY year_plan_id ORDER BY ord = 0 DESC, at, ord, initiative_id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
       initiative_id, NULL, at
FROM (
    SELECT id AS year_plan_id, 'budget' AS kind, budget_cents AS amount, NULL::uuid AS initiative_id,
           created_at AS at, 0 AS ord
    FROM year_plans WHERE budget_cents > 0
    UNION ALL
    SELECT g.year_plan_id, 'grant', -g.amount_cents, g.initiative_id, g.decided_at, 1
    FROM initiative_grants g WHERE g.decision = 'granted' AND g.amount_cents > 0
    UNION ALL
    SELECT i.year_plan_id, 'returned', i.granted_cents - i.spent_cents, i.id, i.updated_at, 2
    FROM initiatives i
    WHERE i.status = 'completed' AND i.spent_cents IS NOT NULL AND i.granted_cents > i.spent_cents
      AND i.year_plan_id IS NOT NULL
) movements
ORDER BY year_plan_id, ord = 0 DESC, at, ord, initiative_id
""",
)


def _ledger() -> None:
    op.add_column("year_plans", sa.Column("spent_cents", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column(
        "year_plans", sa.Column("returned_cents", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.drop_constraint(op.f("ck_year_plans_granted_within_budget"), "year_plans", type_="check")
    op.create_check_constraint(
        op.f("ck_year_plans_granted_within_budget"),
        "year_plans",
        "granted_cents >= 0 AND granted_cents - returned_cents <= budget_cents",
    )
    op.create_check_constraint(
        op.f("ck_year_plans_reported_within_granted"),
        "year_plans",
        "spent_cents >= 0 AND returned_cents >= 0 AND spent_cents + returned_cents <= granted_cents",
    )
    op.create_table(
        "year_plan_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("year_plan_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_cents", sa.BigInteger(), nullable=False),
        sa.Column("initiative_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_cents <> 0", name=op.f("ck_year_plan_ledger_amount_not_zero")),
        sa.CheckConstraint("balance_after_cents >= 0", name=op.f("ck_year_plan_ledger_balance_not_negative")),
        sa.CheckConstraint(
            "kind IN ('budget', 'grant', 'returned')", name=op.f("ck_year_plan_ledger_kind_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_year_plan_ledger_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
            name=op.f("fk_year_plan_ledger_recorded_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["year_plan_id"],
            ["year_plans.id"],
            name=op.f("fk_year_plan_ledger_year_plan_id_year_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_plan_ledger")),
        sa.UniqueConstraint("position", name=op.f("uq_year_plan_ledger_position")),
    )
    op.create_index("ix_year_plan_ledger_plan_position", "year_plan_ledger", ["year_plan_id", "position"])
    for statement in (*APPEND_ONLY, *BACKFILL):
        op.execute(statement)


def upgrade() -> None:
    _decision_rules()
    _meetings()
    _decisions()
    _ledger()


def downgrade() -> None:
    op.drop_table("year_plan_ledger")
    op.execute("DROP FUNCTION year_plan_ledger_append_only()")
    op.drop_constraint(op.f("ck_year_plans_reported_within_granted"), "year_plans", type_="check")
    op.drop_constraint(op.f("ck_year_plans_granted_within_budget"), "year_plans", type_="check")
    op.create_check_constraint(
        op.f("ck_year_plans_granted_within_budget"),
        "year_plans",
        "granted_cents >= 0 AND granted_cents <= budget_cents",
    )
    op.drop_column("year_plans", "returned_cents")
    op.drop_column("year_plans", "spent_cents")
    op.drop_table("grant_ballots")
    op.drop_constraint(op.f("ck_initiative_grants_tally_of_meeting"), "initiative_grants", type_="check")
    op.drop_index(op.f("ix_initiative_grants_meeting_id"), table_name="initiative_grants")
    op.drop_constraint(
        op.f("fk_initiative_grants_meeting_id_network_meetings"), "initiative_grants", type_="foreignkey"
    )
    for column in ("public_summary", "votes_abstain", "votes_against", "votes_for", "meeting_id"):
        op.drop_column("initiative_grants", column)
    op.drop_table("meeting_attendance")
    op.drop_table("network_meetings")
    op.drop_constraint(
        op.f("ck_resident_networks_resident_share_percent"), "resident_networks", type_="check"
    )
    op.drop_constraint(op.f("ck_resident_networks_quorum_members"), "resident_networks", type_="check")
    for column in ("anonymous_voting", "resident_share_percent", "quorum_members"):
        op.drop_column("resident_networks", column)
