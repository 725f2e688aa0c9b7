"""the directory's buurt search: a buurt's locations from one covering index

Revision ID: 0210
Revises: 0205
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0210"
down_revision: str | None = "0205"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (buurt_id, id) lists a buurt's locations by an index-only scan, for the search's set of services
    # at a place in the buurt; the index on buurt_id alone is its prefix and goes.
    op.create_index(
        "ix_directory_locations_buurt_location", "directory_locations", ["buurt_id", "id"], unique=False
    )
    op.drop_index("ix_directory_locations_buurt_id", table_name="directory_locations")


def downgrade() -> None:
    op.create_index("ix_directory_locations_buurt_id", "directory_locations", ["buurt_id"], unique=False)
    op.drop_index("ix_directory_locations_buurt_location", table_name="directory_locations")
