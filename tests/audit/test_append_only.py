"""The access log is append-only in the database itself: no role, the application's included, can
change or remove what it says."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db import Database
from app.domain.unit_of_work import partitions

INSERT = text(
    "INSERT INTO access_log (id, actor_subject, actor_role, client_id, resource, action, purpose, outcome) "
    "VALUES (:id, 'tester', 'generalist', 'test-client', 'household', 'read', 'casework', 'allowed')"
)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET outcome = 'denied' WHERE id = :id",
        "DELETE FROM access_log WHERE id = :id",
        "TRUNCATE access_log",
    ],
)
async def test_rows_cannot_be_changed_or_removed(db: Database, statement: str) -> None:
    entry = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(INSERT, {"id": entry})

    with pytest.raises(DBAPIError, match="append-only"):
        async with db.transaction() as session:
            await session.execute(text(statement), {"id": entry})

    async with db.transaction() as session:
        outcome = await session.scalar(text("SELECT outcome FROM access_log WHERE id = :id"), {"id": entry})
    assert outcome == "allowed"


PARTITIONS = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = 'access_log'::regclass ORDER BY c.relname"
)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {partition} SET outcome = 'denied' WHERE id = :id",
        "DELETE FROM {partition} WHERE id = :id",
        "TRUNCATE {partition}",
    ],
)
async def test_every_partition_refuses_changes_the_default_included(db: Database, statement: str) -> None:
    """The log is partitioned by month (migration 0180; the maintenance job adds months): addressed
    directly, each partition, the default one included, is as append-only as the table."""
    async with db.transaction() as session:
        await partitions.maintain(session, ahead=3)
        names = list((await session.execute(PARTITIONS)).scalars())
    assert "access_log_default" in names and len(names) >= 5  # this month, three ahead, the default
    for name in names:
        moment = _moment_in(name)
        entry = uuid.uuid4()
        async with db.transaction() as session:
            await session.execute(INSERT_AT, {"id": entry, "at": moment})
            assert (
                await session.scalar(
                    text("SELECT tableoid::regclass::text FROM access_log WHERE id = :id"), {"id": entry}
                )
                == name
            )

        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(text(statement.format(partition=name)), {"id": entry})

        async with db.transaction() as session:
            outcome = await session.scalar(
                text("SELECT outcome FROM access_log WHERE id = :id"), {"id": entry}
            )
        assert outcome == "allowed", name


INSERT_AT = text(
    "INSERT INTO access_log (id, occurred_at, actor_subject, actor_role, client_id, resource, action,"
    " purpose, outcome) VALUES (:id, :at, 'tester', 'generalist', 'test-client', 'household', 'read',"
    " 'casework', 'allowed')"
)


def _moment_in(partition: str) -> datetime:
    """An instant the partition holds: mid-month for a month, far past every month for the default."""
    if partition == "access_log_default":
        return datetime(2199, 1, 1, tzinfo=UTC)
    year, month = partition.removeprefix("access_log_p").split("_")
    return datetime(int(year), int(month), 15, 12, tzinfo=UTC)
