"""the worklist's inbound referrals waiting for a decision, reached per team

Revision ID: 0200
Revises: 0191
Create Date: 2026-12-07 15:40:00

The worklist lists a team's inbound referrals that wait for a decision (no household yet). Without
this index PostgreSQL read every household-less referral of every team (``ix_referrals_household_id``
for ``IS NULL``) and kept the team's; a partial index by team holds only the waiting ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0200"
down_revision: str | None = "0191"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "direction = 'inbound' AND status = 'submitted' AND household_id IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_referrals_inbound_waiting", "referrals", ["team_id"], postgresql_where=sa.text(WAITING)
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_inbound_waiting", table_name="referrals")
