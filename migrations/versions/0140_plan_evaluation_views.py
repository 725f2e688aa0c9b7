"""plan evaluation views: a household member's own view on an evaluation, beside the worker-recorded
household_view (app/domain/plans, self-service)

Revision ID: 0140
Revises: 0120
Create Date: 2026-12-07 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0140"
down_revision: str | None = "0120"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_evaluation_views",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("view", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["plan_evaluations.id"],
            name=op.f("fk_plan_evaluation_views_evaluation_id_plan_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_plan_evaluation_views_member_id_members"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_evaluation_views_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_evaluation_views")),
        sa.UniqueConstraint("evaluation_id", "member_id", name="uq_plan_evaluation_views_member"),
    )
    op.create_index(op.f("ix_plan_evaluation_views_plan_id"), "plan_evaluation_views", ["plan_id"], unique=False)
    op.create_index(
        op.f("ix_plan_evaluation_views_member_id"), "plan_evaluation_views", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_evaluation_views_member_id"), table_name="plan_evaluation_views")
    op.drop_index(op.f("ix_plan_evaluation_views_plan_id"), table_name="plan_evaluation_views")
    op.drop_table("plan_evaluation_views")
