"""a meeting carries a version, so a coordinator can correct it (expectedVersion) before it decides

Revision ID: 0260
Revises: 0210
Create Date: 2026-12-07 16:10:00

A meeting's date and who was present can be corrected until a grant is decided in it; the correction
names the version it edited, like every other changing mutation. Existing meetings start at 1.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0260"
down_revision: str | None = "0210"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("network_meetings", sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    op.drop_column("network_meetings", "version")
