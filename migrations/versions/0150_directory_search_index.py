"""the directory's buurt search: services at a buurt's locations from one covering index

Revision ID: 0150
Revises: 0156
Create Date: 2026-12-07 13:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0150"
down_revision: str | None = "0156"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (location_id, service_id) answers "which services are offered here" by index-only probes; the
    # index on location_id alone is its prefix and goes.
    op.create_index(
        "ix_directory_sal_location_service",
        "directory_service_at_locations",
        ["location_id", "service_id"],
        unique=False,
    )
    op.drop_index("ix_directory_service_at_locations_location_id", table_name="directory_service_at_locations")


def downgrade() -> None:
    op.create_index(
        "ix_directory_service_at_locations_location_id",
        "directory_service_at_locations",
        ["location_id"],
        unique=False,
    )
    op.drop_index("ix_directory_sal_location_service", table_name="directory_service_at_locations")
