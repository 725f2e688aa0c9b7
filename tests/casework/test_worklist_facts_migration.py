"""Migration 0270 back-fills the worklist's facts of every household from what is already there, keeps
them from then on, and goes down leaving the sources as they were: filled at 0260, upgraded, checked,
downgraded, checked, upgraded again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import Database
from app.migrations import downgrade, upgrade
from tests.casework.scratch_households import fill
from tests.support.locks import until_waiting_for_a_lock

BEFORE = "0260"
STORED = "0270"
FACTS = text(
    "SELECT household_id, tier, last_contact_on, plan_id, plan_agreed, plan_evaluation_date"
    " FROM worklist_facts WHERE household_id = ANY (:ids)"
)


async def _contact(connection: AsyncConnection, household: uuid.UUID, at: datetime) -> None:
    await connection.execute(
        text(
            "INSERT INTO contact_moments (id, household_id, kind, occurred_at, minutes)"
            " VALUES (gen_random_uuid(), :household, 'phone', :at, 10)"
        ),
        {"household": household, "at": at},
    )


async def _facts(connection: AsyncConnection, ids: dict[str, uuid.UUID]) -> dict[uuid.UUID, tuple[Any, ...]]:
    rows = await connection.execute(FACTS, {"ids": list(ids.values())})
    return {row[0]: tuple(row[1:]) for row in rows}


async def test_the_facts_are_back_filled_kept_and_dropped_with_the_sources_intact(scratch: Database) -> None:
    await upgrade(scratch.engine, BEFORE)
    plan = uuid.uuid4()
    async with scratch.engine.begin() as connection:
        ids = await fill(connection)
        await _contact(connection, ids["fine"], datetime(2026, 4, 1, 23, 30, tzinfo=UTC))  # 2 April locally
        await connection.execute(
            text(
                "INSERT INTO plans (id, household_id, revision, status, agreed_at, agreement_recorded_by,"
                " evaluation_date) VALUES (:id, :household, 1, 'active', now(), 'team', DATE '2026-07-01')"
            ),
            {"id": plan, "household": ids["fine"]},
        )
    expected = {
        ids["multi_problem"]: ("specialist", None, None, False, None),
        ids["crisis_resolved"]: ("support", None, None, False, None),
        ids["fine"]: ("self_reliant", date(2026, 4, 2), plan, True, date(2026, 7, 1)),
        ids["not_assessed"]: (None, None, None, False, None),
    }

    await upgrade(scratch.engine, STORED)
    async with scratch.engine.begin() as connection:
        assert await _facts(connection, ids) == expected
        # From now on the triggers keep them: a later contact.
        await _contact(connection, ids["not_assessed"], datetime(2026, 5, 1, 10, tzinfo=UTC))
        facts = await _facts(connection, ids)
        assert facts[ids["not_assessed"]] == (None, date(2026, 5, 1), None, False, None)
        # A source emptied at once: every household's row again.
        await connection.execute(text("TRUNCATE plans CASCADE"))
        facts = await _facts(connection, ids)
        assert facts[ids["fine"]] == ("self_reliant", date(2026, 4, 2), None, False, None)

    await downgrade(scratch.engine, BEFORE)
    async with scratch.engine.begin() as connection:
        assert await connection.scalar(text("SELECT to_regclass('worklist_facts')")) is None
        assert await connection.scalar(text("SELECT count(*) FROM contact_moments")) == 2
        assert await connection.scalar(text("SELECT count(*) FROM plans")) == 0
        triggers = await connection.scalar(
            text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'worklist_facts%'")
        )
        assert triggers == 0

    await upgrade(scratch.engine, STORED)
    async with scratch.engine.begin() as connection:
        assert await _facts(connection, ids) == expected | {
            ids["not_assessed"]: (None, date(2026, 5, 1), None, False, None),
            ids["fine"]: ("self_reliant", date(2026, 4, 2), None, False, None),
        }


async def test_a_truncate_waits_for_a_refresh_in_flight_and_then_sees_what_it_committed(
    scratch: Database,
) -> None:
    """The TRUNCATE's refresh of every household takes no lock of its own: the emptied table's ACCESS
    EXCLUSIVE waits for the transaction whose refresh read it, so the contact it commits is kept."""
    await upgrade(scratch.engine, BEFORE)
    async with scratch.engine.begin() as connection:
        ids = await fill(connection)
    await upgrade(scratch.engine, STORED)
    async with scratch.engine.connect() as writer, scratch.engine.connect() as truncater:
        await _contact(writer, ids["fine"], datetime(2026, 6, 1, 10, tzinfo=UTC))
        pid = await truncater.scalar(text("SELECT pg_backend_pid()"))
        truncate = asyncio.create_task(truncater.execute(text("TRUNCATE plans CASCADE")))
        await until_waiting_for_a_lock(scratch.engine, pid)
        await writer.commit()
        await truncate
        await truncater.commit()
    async with scratch.engine.begin() as connection:
        assert (await _facts(connection, ids))[ids["fine"]] == (
            "self_reliant",
            date(2026, 6, 1),
            None,
            False,
            None,
        )
