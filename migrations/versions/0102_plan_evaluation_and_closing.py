"""plan evaluation and closing: a plan version can be closed with a reason, and evaluated per goal

Revision ID: 0102
Revises: 0101
Create Date: 2026-11-23 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0102"
down_revision: str | None = "0101"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = "'goals_reached', 'household_closed', 'referred_specialist', 'declined_support', 'other'"
RESULTS = "'reached', 'partly', 'not_reached', 'dropped'"


def upgrade() -> None:
    op.add_column("plans", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plans", sa.Column("closing_reason", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
    op.add_column("plans", sa.Column("closing_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    op.add_column("plans", sa.Column("closed_by", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_plans_closed_by_workers"), "plans", "workers", ["closed_by"], ["id"])
    # The active plan of a household closed before plans could be closed ends with it.
    op.execute(
        "UPDATE plans p SET status = 'closed', closing_reason = 'household_closed', closed_at = h.closed_at "
        "FROM households h WHERE h.id = p.household_id AND h.status = 'closed' AND p.status = 'active'"
    )
    op.drop_constraint(op.f("ck_plans_status_allowed"), "plans", type_="check")
    op.create_check_constraint(op.f("ck_plans_status_allowed"), "plans", "status IN ('active', 'superseded', 'closed')")
    op.create_check_constraint(op.f("ck_plans_closed_has_reason"), "plans", "(status = 'closed') = (closing_reason IS NOT NULL)")
    op.create_check_constraint(
        op.f("ck_plans_closing_reason_allowed"), "plans", f"closing_reason IS NULL OR closing_reason IN ({REASONS})"
    )
    op.create_table(
        "plan_evaluations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("evaluated_by", sa.Uuid(), nullable=True),
        sa.Column("member_ids", sa.ARRAY(sa.Uuid()), server_default="{}", nullable=False),
        sa.Column("others", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("household_view", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluated_by"], ["workers.id"], name=op.f("fk_plan_evaluations_evaluated_by_workers")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_evaluations_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_evaluations")),
    )
    op.create_index("ix_plan_evaluations_plan_evaluated", "plan_evaluations", ["plan_id", "evaluated_on"])
    op.create_table(
        "plan_goal_evaluations",
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("score_assessed_on", sa.Date(), nullable=True),
        sa.CheckConstraint(f"result IN ({RESULTS})", name=op.f("ck_plan_goal_evaluations_result_allowed")),
        sa.CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name=op.f("ck_plan_goal_evaluations_score_range")),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["plan_evaluations.id"],
            name=op.f("fk_plan_goal_evaluations_evaluation_id_plan_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["plan_goals.id"], name=op.f("fk_plan_goal_evaluations_goal_id_plan_goals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("evaluation_id", "goal_id", name=op.f("pk_plan_goal_evaluations")),
    )
    op.create_index(op.f("ix_plan_goal_evaluations_goal_id"), "plan_goal_evaluations", ["goal_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_goal_evaluations_goal_id"), table_name="plan_goal_evaluations")
    op.drop_table("plan_goal_evaluations")
    op.drop_index("ix_plan_evaluations_plan_evaluated", table_name="plan_evaluations")
    op.drop_table("plan_evaluations")
    op.drop_constraint(op.f("ck_plans_closing_reason_allowed"), "plans", type_="check")
    op.drop_constraint(op.f("ck_plans_closed_has_reason"), "plans", type_="check")
    op.drop_constraint(op.f("ck_plans_status_allowed"), "plans", type_="check")
    op.execute("UPDATE plans SET status = 'superseded', superseded_at = closed_at WHERE status = 'closed'")
    op.create_check_constraint(op.f("ck_plans_status_allowed"), "plans", "status IN ('active', 'superseded')")
    op.drop_constraint(op.f("fk_plans_closed_by_workers"), "plans", type_="foreignkey")
    op.drop_column("plans", "closed_by")
    op.drop_column("plans", "closing_note")
    op.drop_column("plans", "closing_reason")
    op.drop_column("plans", "closed_at")
