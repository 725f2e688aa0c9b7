"""Migration 0180 partitions the access log and the change feed by month and keeps every row: filled
at 0120, upgraded, checked, downgraded, checked again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import Database
from app.migrations import downgrade, upgrade

BEFORE = "0120"
PARTITIONED = "0180"
# Rows long before the migration, last month and now (the server's clock).
MOMENTS = [datetime(2025, 3, 14, 10, tzinfo=UTC), datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)]


async def _fill(connection: AsyncConnection) -> tuple[set[uuid.UUID], list[int]]:
    ids = set()
    for moment in [*MOMENTS, None]:
        for _ in range(3):
            entry = uuid.uuid4()
            ids.add(entry)
            await connection.execute(
                text(
                    "INSERT INTO access_log (id, occurred_at, actor_subject, actor_role, client_id, resource,"
                    " action, purpose, outcome)"
                    " VALUES (:id, coalesce(:at, now()), 'tester', 'generalist', 'app',"
                    " 'household', 'read', 'casework', 'allowed')"
                ),
                {"id": entry, "at": moment},
            )
            await connection.execute(
                text(
                    "INSERT INTO case_changes (household_id, entity, entity_id, op, changed_at)"
                    " VALUES (:id, 'household', :id, 'upsert', coalesce(:at, now()))"
                ),
                {"id": entry, "at": moment},
            )
    seqs = (await connection.execute(text("SELECT seq FROM case_changes ORDER BY seq"))).scalars().all()
    return ids, list(seqs)


PRIMARY_KEYS = text(
    "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE contype = 'p' AND conrelid IN ('access_log'::regclass, 'case_changes'::regclass)"
)


async def _state(connection: AsyncConnection) -> dict[str, Any]:
    kinds = await connection.execute(
        text("SELECT relname, relkind::text FROM pg_class WHERE relname IN ('access_log', 'case_changes')")
    )
    return {
        "kinds": {name: kind for name, kind in kinds},
        "log_ids": set((await connection.execute(text("SELECT id FROM access_log"))).scalars()),
        "seqs": list((await connection.execute(text("SELECT seq FROM case_changes ORDER BY seq"))).scalars()),
        "primary_keys": {table: key for table, key in await connection.execute(PRIMARY_KEYS)},
    }


async def _partition_of(connection: AsyncConnection, table: str, key: str, moment: datetime) -> str:
    statement = text(f"SELECT tableoid::regclass::text FROM {table} WHERE {key} = :at LIMIT 1")
    return str(await connection.scalar(statement, {"at": moment}))


async def _next_seq(connection: AsyncConnection) -> int:
    return int(
        await connection.scalar(
            text(
                "INSERT INTO case_changes (household_id, entity, entity_id, op)"
                " VALUES (gen_random_uuid(), 'household', gen_random_uuid(), 'upsert') RETURNING seq"
            )
        )
    )


async def _refuses(db: Database, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.engine.begin() as connection:
            await connection.execute(text(statement))


async def test_rows_survive_partitioning_up_and_down(scratch: Database) -> None:
    await upgrade(scratch.engine, BEFORE)
    async with scratch.engine.begin() as connection:
        ids, seqs = await _fill(connection)

    await upgrade(scratch.engine, PARTITIONED)
    async with scratch.engine.begin() as connection:
        state = await _state(connection)
        assert state["kinds"] == {"access_log": "p", "case_changes": "p"}
        assert state["log_ids"] == ids and state["seqs"] == seqs
        assert state["primary_keys"] == {
            "access_log": "PRIMARY KEY (id, occurred_at)",
            "case_changes": "PRIMARY KEY (seq, changed_at)",
        }
        # Each row sits in its month's partition; the months in between and ahead exist too.
        assert (
            await _partition_of(connection, "access_log", "occurred_at", MOMENTS[0]) == "access_log_p2025_03"
        )
        assert (
            await _partition_of(connection, "case_changes", "changed_at", MOMENTS[1])
            == "case_changes_p2026_02"
        )
        now = (await connection.scalar(text("SELECT now()"))).astimezone(UTC)
        months = set(
            (
                await connection.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                        " WHERE i.inhparent = 'access_log'::regclass"
                    )
                )
            ).scalars()
        )
        assert {
            "access_log_default",
            "access_log_p2025_03",
            "access_log_p2025_04",
            f"access_log_p{now:%Y_%m}",
        } <= months
        assert len(months) == 1 + (now.year - 2025) * 12 + now.month - 3 + 1 + 3
        assert await connection.scalar(text("SELECT count(*) FROM access_log_default")) == 0
        # The change feed's sequence goes on where it was (sync positions stay valid).
        assert await _next_seq(connection) > max(seqs)
    await _refuses(scratch, "DELETE FROM access_log_p2025_03")
    await _refuses(scratch, "UPDATE access_log SET outcome = 'denied'")
    await _refuses(scratch, "TRUNCATE access_log_p2025_03")

    await downgrade(scratch.engine, BEFORE)
    async with scratch.engine.begin() as connection:
        state = await _state(connection)
        assert state["kinds"] == {"access_log": "r", "case_changes": "r"}
        assert state["log_ids"] == ids
        assert state["seqs"][:-1] == seqs  # and the one added while partitioned
        assert state["primary_keys"] == {
            "access_log": "PRIMARY KEY (id)",
            "case_changes": "PRIMARY KEY (seq)",
        }
        assert await _next_seq(connection) > state["seqs"][-1]
        assert (
            await connection.scalar(text("SELECT count(*) FROM pg_class WHERE relname LIKE 'access_log_p%'"))
            == 0
        )
    await _refuses(scratch, "DELETE FROM access_log")
    await _refuses(scratch, "TRUNCATE access_log")
