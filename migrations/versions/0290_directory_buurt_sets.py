"""the directory's buurt search: each service-at-location link knows its location's buurt

Revision ID: 0290
Revises: 0280
Create Date: 2026-12-08 01:10:00

A buurt search ranks the services offered at a place in the buurt first. Their set was built from the
buurt's locations, one index probe of the links per location (~100 per buurt, ~200 of the ~450
buffers a search's ranking touched; bench/directory). With the buurt copied onto the link and an
index on (buurt_id, service_id), the set is a few index pages.

The copy is PostgreSQL's, so no write path can forget it:
- a link's buurt is set by a row trigger before every insert and every change of its location, read
  from the location ``FOR SHARE``: a concurrent move of that location (an UPDATE, which locks the row)
  finishes first and the link reads the new buurt, or waits for the link's transaction, whose row the
  move's trigger then sees (below);
- a move of locations (``buurt_id`` changed, by any statement; an area still holding locations
  cannot be deleted, its foreign key has no ON DELETE action) copies the new buurt onto their links:
  a statement trigger, one UPDATE per statement from its transition tables. No advisory locks
  (0270's lesson: one per row overflowed the lock table on bulk writes); the row locks above are
  tuple locks, which take no lock-table slots. A relink takes its locations ``FOR SHARE`` in id
  order before deleting links (``repository.share_locations_of_links``), or it and a move deadlock.
  The move's UPDATE reads the links in its transaction's snapshot: under REPEATABLE READ it would
  miss a link committed meanwhile; only the read-only export runs at that level.

The HSDS answers are kept under the public-data version (0190) and read the life domains (taxonomy
terms, the services' terms): that table gets 0190's triggers too, so a change of it is served at once.

The services serving an area get an index on (area_id, service_id) in place of the one on area_id
(its prefix): the search's sets of services serving its buurt, wijk and municipality are read from it
alone, instead of reading each candidate's areas. Likewise the organisations get (municipality_id, id)
in place of (municipality_id): the set of the buurt's municipality's organisations, instead of
reading each candidate's organisation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0290"
down_revision: str | None = "0280"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = (
    """
    CREATE FUNCTION directory_sal_buurt() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.buurt_id := (SELECT l.buurt_id FROM directory_locations AS l
                          WHERE l.id = NEW.location_id FOR SHARE);
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER directory_sal_buurt
        BEFORE INSERT OR UPDATE OF location_id, buurt_id ON directory_service_at_locations
        FOR EACH ROW EXECUTE FUNCTION directory_sal_buurt()
    """,
    """
    CREATE FUNCTION directory_locations_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE directory_service_at_locations AS sal SET buurt_id = moved.buurt_id
          FROM moved JOIN before_move AS b ON b.id = moved.id
         WHERE sal.location_id = moved.id AND moved.buurt_id IS DISTINCT FROM b.buurt_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER directory_locations_moved
        AFTER UPDATE ON directory_locations
        REFERENCING OLD TABLE AS before_move NEW TABLE AS moved
        FOR EACH STATEMENT EXECUTE FUNCTION directory_locations_moved()
    """,
)


def upgrade() -> None:
    op.add_column("directory_service_at_locations", sa.Column("buurt_id", sa.Uuid(), nullable=True))
    op.create_index(
        "ix_directory_sal_buurt_service",
        "directory_service_at_locations",
        ["buurt_id", "service_id"],
        unique=False,
    )
    # The triggers before the copy: CREATE TRIGGER locks directory_locations against writes (SHARE ROW
    # EXCLUSIVE) until the commit, so no move can fall between the copy's snapshot and the trigger
    # that would have copied it (a link so missed would keep its old buurt until its location moved
    # again). The copy's UPDATE fires the row trigger, which writes the same value.
    for statement in TRIGGERS:
        op.execute(statement)
    # After the index: the UPDATE leaves trigger events pending on the table until the commit (the
    # public-data version's deferred trigger, 0190), and PostgreSQL refuses to index a table with
    # pending ones.
    op.execute(
        "UPDATE directory_service_at_locations AS sal SET buurt_id = l.buurt_id "
        "FROM directory_locations AS l WHERE l.id = sal.location_id AND l.buurt_id IS NOT NULL"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER public_data_changed AFTER INSERT OR UPDATE OR DELETE ON life_domains "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public_data_changed()"
    )
    op.execute(
        "CREATE TRIGGER public_data_truncated AFTER TRUNCATE ON life_domains "
        "FOR EACH STATEMENT EXECUTE FUNCTION public_data_changed()"
    )
    op.create_index(
        "ix_directory_service_areas_area_service",
        "directory_service_areas",
        ["area_id", "service_id"],
        unique=False,
    )
    op.drop_index("ix_directory_service_areas_area_id", table_name="directory_service_areas")
    op.create_index(
        "ix_directory_organizations_municipality_org",
        "directory_organizations",
        ["municipality_id", "id"],
        unique=False,
    )
    op.drop_index("ix_directory_organizations_municipality_id", table_name="directory_organizations")


def downgrade() -> None:
    op.create_index(
        "ix_directory_organizations_municipality_id",
        "directory_organizations",
        ["municipality_id"],
        unique=False,
    )
    op.drop_index("ix_directory_organizations_municipality_org", table_name="directory_organizations")
    op.create_index(
        "ix_directory_service_areas_area_id", "directory_service_areas", ["area_id"], unique=False
    )
    op.drop_index("ix_directory_service_areas_area_service", table_name="directory_service_areas")
    for statement in (
        "DROP TRIGGER public_data_truncated ON life_domains",
        "DROP TRIGGER public_data_changed ON life_domains",
        "DROP TRIGGER directory_locations_moved ON directory_locations",
        "DROP FUNCTION directory_locations_moved()",
        "DROP TRIGGER directory_sal_buurt ON directory_service_at_locations",
        "DROP FUNCTION directory_sal_buurt()",
    ):
        op.execute(statement)
    op.drop_index("ix_directory_sal_buurt_service", table_name="directory_service_at_locations")
    op.drop_column("directory_service_at_locations", "buurt_id")
