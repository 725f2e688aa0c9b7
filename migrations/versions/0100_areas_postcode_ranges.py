"""areas: the postcode table moves to the areas context, by year and house-number range

``postcode_areas`` (routing of inbound referrals by postcode) becomes the table of CBS's yearly "buurt,
wijk en gemeente per postcode en huisnummer": a row per range of house numbers of a postcode in one
buurt, per year. The rows it held stay: each becomes the whole number range of its postcode, in the
year of this migration. ``postcode_imports`` remembers what each year's import held per municipality
(a re-run of the same file changes nothing).

Revision ID: 0100
Revises: 0110
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0100"
down_revision: str | None = "0110"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("postcode_areas", sa.Column("year", sa.Integer(), nullable=True))
    op.add_column(
        "postcode_areas", sa.Column("house_number_from", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column(
        "postcode_areas", sa.Column("house_number_to", sa.Integer(), server_default="99999", nullable=False)
    )
    op.execute("UPDATE postcode_areas SET year = extract(year FROM now() AT TIME ZONE 'Europe/Amsterdam')")
    op.alter_column("postcode_areas", "year", nullable=False)
    op.alter_column("postcode_areas", "house_number_from", server_default=None)
    op.alter_column("postcode_areas", "house_number_to", server_default=None)
    op.drop_constraint("pk_postcode_areas", "postcode_areas", type_="primary")
    op.create_primary_key("pk_postcode_areas", "postcode_areas", ["year", "postcode", "house_number_from"])
    op.create_check_constraint(
        op.f("ck_postcode_areas_house_numbers_ordered"),
        "postcode_areas",
        "house_number_from BETWEEN 1 AND house_number_to AND house_number_to <= 99999",
    )
    op.create_check_constraint(op.f("ck_postcode_areas_year_range"), "postcode_areas", "year BETWEEN 2000 AND 2999")
    op.create_index("ix_postcode_areas_postcode_year", "postcode_areas", ["postcode", "year"])
    op.create_table(
        "postcode_imports",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("municipality_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("addresses", sa.Integer(), nullable=False),
        sa.Column("ranges", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_postcode_imports_municipality_id_municipalities"),
        ),
        sa.PrimaryKeyConstraint("year", "municipality_id", name=op.f("pk_postcode_imports")),
    )


def downgrade() -> None:
    op.drop_table("postcode_imports")
    op.drop_index("ix_postcode_areas_postcode_year", table_name="postcode_areas")
    op.drop_constraint(op.f("ck_postcode_areas_year_range"), "postcode_areas", type_="check")
    op.drop_constraint(op.f("ck_postcode_areas_house_numbers_ordered"), "postcode_areas", type_="check")
    op.drop_constraint("pk_postcode_areas", "postcode_areas", type_="primary")
    # One row per postcode again: the newest year's buurt of its lowest range.
    op.execute(
        "DELETE FROM postcode_areas AS p WHERE EXISTS (SELECT 1 FROM postcode_areas AS q "
        "WHERE q.postcode = p.postcode AND (q.year > p.year "
        "OR (q.year = p.year AND q.house_number_from < p.house_number_from)))"
    )
    op.create_primary_key("pk_postcode_areas", "postcode_areas", ["postcode"])
    op.drop_column("postcode_areas", "house_number_to")
    op.drop_column("postcode_areas", "house_number_from")
    op.drop_column("postcode_areas", "year")
