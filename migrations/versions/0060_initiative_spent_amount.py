"""initiatives report the amount of their grant they spent

An initiative's closing report (running -> completed) may state how much of the grant it spent, so
the statistics can publish budget spent next to budget granted. Nullable: reports made before this
revision, and reports that leave it out, have not stated it.

Revision ID: 0060
Revises: 0051
Create Date: 2026-11-22 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0060"
down_revision: str | Sequence[str] | None = "0051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0040",)


def upgrade() -> None:
    op.add_column("initiatives", sa.Column("spent_cents", sa.BigInteger(), nullable=True))
    op.create_check_constraint(
        op.f("ck_initiatives_spent_not_negative"), "initiatives", "spent_cents IS NULL OR spent_cents >= 0"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_initiatives_spent_not_negative"), "initiatives", type_="check")
    op.drop_column("initiatives", "spent_cents")
