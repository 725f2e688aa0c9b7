"""authorization codes remember their sign-in's refresh-token family (a replayed code revokes it)

Revision ID: 0081
Revises: 0080
Create Date: 2026-12-07 02:40:41.288129
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0081"
down_revision: str | None = "0080"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("authorization_codes", sa.Column("refresh_family_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("authorization_codes", "refresh_family_id")
