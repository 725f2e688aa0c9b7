"""worklist dates: when a file went into aftercare, and which break-glass uses a team lead reviewed

Revision ID: 0101
Revises: 0100
Create Date: 2026-11-23 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0101"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("households", sa.Column("aftercare_since", sa.DateTime(timezone=True), nullable=True))
    # Files in aftercare today: their last change is the best date known for it.
    op.execute("UPDATE households SET aftercare_since = updated_at WHERE status = 'aftercare'")
    op.add_column("break_glass_grants", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("break_glass_grants", sa.Column("reviewed_by", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_break_glass_grants_reviewed_by_workers"), "break_glass_grants", "workers", ["reviewed_by"], ["id"]
    )
    # The worklist reads the grants still to review per household.
    op.create_index(
        "ix_break_glass_grants_unreviewed",
        "break_glass_grants",
        ["household_id"],
        postgresql_where=sa.text("reviewed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_break_glass_grants_unreviewed", table_name="break_glass_grants")
    op.drop_constraint(op.f("fk_break_glass_grants_reviewed_by_workers"), "break_glass_grants", type_="foreignkey")
    op.drop_column("break_glass_grants", "reviewed_by")
    op.drop_column("break_glass_grants", "reviewed_at")
    op.drop_column("households", "aftercare_since")
