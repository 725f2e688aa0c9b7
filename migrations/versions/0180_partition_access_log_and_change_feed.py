"""access_log and case_changes range-partitioned by month (UTC), existing rows kept

Revision ID: 0180
Revises: 0150
Create Date: 2026-12-07 12:50:00

Each table is rebuilt as a partitioned table of the same columns, defaults and checks: one partition
per month from the month of its oldest row to three months ahead (``wijkwerk partitions maintain``
keeps creating them, at start-up too), plus a default partition for anything outside those months.
The rows are copied across in this transaction. The primary keys take the partition key in
(``(id, occurred_at)``, ``(seq, changed_at)``); nothing references either table. The change feed's
sequence is kept, so ``seq`` goes on where it was and sync cursors (txid watermarks) stay valid.

The access log's append-only triggers are made on the partitioned table: the row trigger is cloned
onto every partition PostgreSQL makes or attaches; the TRUNCATE trigger (statement level, never
cloned) is also made on each partition, here and by the maintenance job.

Downgrade copies the rows back into plain tables with the old keys.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

revision: str = "0180"
down_revision: str | None = "0150"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONTHS_AHEAD = 3

# table -> (partition key, primary key columns of the partitioned table, the plain table's, indexes)
TABLES = {
    "access_log": (
        "occurred_at",
        "id, occurred_at",
        "id",
        {
            "ix_access_log_actor_subject": "actor_subject",
            "ix_access_log_actor_worker_id": "actor_worker_id",
            "ix_access_log_household_id": "household_id",
            "ix_access_log_person_id": "person_id",
            "ix_access_log_occurred_at": "occurred_at",
        },
    ),
    "case_changes": (
        "changed_at",
        "seq, changed_at",
        "seq",
        {
            "ix_case_changes_household_id": "household_id",
            "ix_case_changes_txid": "txid",
            "ix_case_changes_changed_at": "changed_at",
        },
    ),
}


def _month(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def _months(table: str, key: str) -> list[datetime]:
    """Every month from the oldest row's (or this one) to ``MONTHS_AHEAD`` past this one."""
    bind = op.get_bind()
    oldest = bind.scalar(text(f"SELECT min({key}) FROM {table}_unpartitioned"))  # noqa: S608 - our names
    now = bind.scalar(text("SELECT now()"))
    month = _month(min(oldest, now) if oldest is not None else now)
    last = _month(now)
    for _ in range(MONTHS_AHEAD):
        last = _next(last)
    months = [month]
    while month < last:
        month = _next(month)
        months.append(month)
    return months


def _append_only(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION wijkwerk_refuse_change()"
    )


def _no_truncate(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION wijkwerk_refuse_change()"
    )


def _keys_and_indexes(table: str, primary_key: str, indexes: dict[str, str]) -> None:
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({primary_key})")
    for name, column in indexes.items():
        op.execute(f"CREATE INDEX {name} ON {table} ({column})")


def _release_sequence(table: str) -> str | None:
    """The change feed's ``seq`` sequence, no longer owned by the table about to be dropped."""
    if not table.startswith("case_changes"):
        return None
    sequence = op.get_bind().scalar(text(f"SELECT pg_get_serial_sequence('{table}', 'seq')"))
    if sequence is not None:
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY NONE")
    return sequence


def upgrade() -> None:
    for table, (key, primary_key, _, indexes) in TABLES.items():
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
        sequence = _release_sequence(f"{table}_unpartitioned")
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            f" PARTITION BY RANGE ({key})"
        )
        partitions = [f"{table}_default"]
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        for month in _months(table, key):
            name = f"{table}_p{month:%Y_%m}"
            partitions.append(name)
            op.execute(
                f"CREATE TABLE {name} PARTITION OF {table}"
                f" FOR VALUES FROM ('{month.isoformat()}') TO ('{_next(month).isoformat()}')"
            )
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")  # noqa: S608 - our names
        op.execute(f"DROP TABLE {table}_unpartitioned")
        if sequence is not None:
            op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.seq")
        _keys_and_indexes(table, primary_key, indexes)
        if table == "access_log":
            _append_only(table)
            for partition in [table, *partitions]:
                _no_truncate(partition)
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for table, (_, _, primary_key, indexes) in TABLES.items():
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
        sequence = _release_sequence(f"{table}_partitioned")
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_partitioned")  # noqa: S608 - our names
        op.execute(f"DROP TABLE {table}_partitioned")  # and every partition with it
        if sequence is not None:
            op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.seq")
        _keys_and_indexes(table, primary_key, indexes)
        if table == "access_log":
            _append_only(table)
            _no_truncate(table)
