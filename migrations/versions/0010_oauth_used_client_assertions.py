"""oauth used client assertions (single-use jti of private_key_jwt assertions)

Revision ID: 0010
Revises: 0003
Create Date: 2026-11-22 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('oauth_used_assertions',
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('jti', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'jti', name=op.f('pk_oauth_used_assertions'))
    )
    op.create_index(
        op.f('ix_oauth_used_assertions_expires_at'), 'oauth_used_assertions', ['expires_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_oauth_used_assertions_expires_at'), table_name='oauth_used_assertions')
    op.drop_table('oauth_used_assertions')
