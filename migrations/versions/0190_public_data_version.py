"""the version of the public data, raised at commit by every transaction that writes public tables

Revision ID: 0190
Revises: 0165
Create Date: 2026-12-07 13:00:00

See app/domain/unit_of_work/public_data.py: one counter row; a deferred constraint trigger per row
of a public table calls ``public_data_changed()`` at commit, which raises the counter once per
transaction (a transaction-local setting remembers it did); TRUNCATE (tests, administrators) raises
it through a statement trigger.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0190"
down_revision: str | None = "0165"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as they are at this revision (app.domain.unit_of_work.public_data.PUBLIC_TABLES may grow).
TABLES = (
    "themes",
    "municipalities",
    "areas",
    "resident_networks",
    "network_areas",
    "network_members",
    "initiatives",
    "initiative_grants",
    "directory_organizations",
    "directory_locations",
    "directory_services",
    "directory_service_at_locations",
    "directory_service_areas",
    "directory_schedules",
)

FUNCTION = """
CREATE FUNCTION public_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Once per transaction: the first trigger to fire at commit raises the counter, the rest see
    -- the transaction-local mark (txid, so a pooled connection's next transaction starts clean).
    IF current_setting('wijkwerk.public_data_changed', true) IS DISTINCT FROM txid_current()::text THEN
        UPDATE public_data_versions SET version = version + 1 WHERE name = 'public';
        PERFORM set_config('wijkwerk.public_data_changed', txid_current()::text, true);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "public_data_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_public_data_versions")),
    )
    op.execute("INSERT INTO public_data_versions (name, version) VALUES ('public', 0)")
    op.execute(FUNCTION)
    for table in TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER public_data_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public_data_changed()"
        )
        op.execute(
            f"CREATE TRIGGER public_data_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION public_data_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER public_data_truncated ON {table}")
        op.execute(f"DROP TRIGGER public_data_changed ON {table}")
    op.execute("DROP FUNCTION public_data_changed()")
    op.drop_table("public_data_versions")
