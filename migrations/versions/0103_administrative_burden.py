"""administrative burden: write requests and fields per household, per month and up to the first plan

Written by the unit of work when a worker's write request commits (app/domain/unit_of_work/burden.py).

Revision ID: 0103
Revises: 0102
Create Date: 2026-11-23 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0103"
down_revision: str | None = "0102"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_write_months",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("write_requests", sa.Integer(), nullable=False),
        sa.Column("fields_entered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_case_write_months_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", "month", name=op.f("pk_case_write_months")),
    )
    op.create_index("ix_case_write_months_month", "case_write_months", ["month"])
    op.create_table(
        "intake_burden",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("write_requests", sa.Integer(), nullable=False),
        sa.Column("fields_entered", sa.Integer(), nullable=False),
        sa.Column("plan_agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_intake_burden_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_intake_burden")),
    )


def downgrade() -> None:
    op.drop_table("intake_burden")
    op.drop_index("ix_case_write_months_month", table_name="case_write_months")
    op.drop_table("case_write_months")
