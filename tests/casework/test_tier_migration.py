"""Migration 0205 back-fills the stored tier of every household from the scores already there, keeps it
from then on, and goes down leaving the scores as they were: filled at 0200, upgraded, checked,
downgraded, checked, upgraded again."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import Database
from app.migrations import downgrade, upgrade
from tests.casework.scratch_households import HOUSEHOLDS, fill

BEFORE = "0200"
STORED = "0205"


async def _stored(connection: AsyncConnection) -> dict[uuid.UUID, str]:
    return {
        row[0]: row[1]
        for row in await connection.execute(text("SELECT household_id, tier FROM household_tiers"))
    }


async def _scores(connection: AsyncConnection) -> int:
    return int(await connection.scalar(text("SELECT count(*) FROM assessment_scores")) or 0)


async def test_the_tier_is_back_filled_kept_and_dropped_with_the_scores_intact(scratch: Database) -> None:
    await upgrade(scratch.engine, BEFORE)
    async with scratch.engine.begin() as connection:
        ids = await fill(connection)
        scores = await _scores(connection)
    expected = {ids[key]: tier for key, (_a, tier) in HOUSEHOLDS.items() if tier is not None}

    await upgrade(scratch.engine, STORED)
    async with scratch.engine.begin() as connection:
        assert await _stored(connection) == expected
        # From now on the triggers keep it: the resolved crisis comes back.
        await connection.execute(
            text(
                "UPDATE assessments SET assessed_on = DATE '2025-12-01'"
                " WHERE household_id = :household AND assessed_on = DATE '2026-02-05'"
            ),
            {"household": ids["crisis_resolved"]},
        )
        assert (await _stored(connection))[ids["crisis_resolved"]] == "specialist"

    await downgrade(scratch.engine, BEFORE)
    async with scratch.engine.begin() as connection:
        assert await connection.scalar(text("SELECT to_regclass('household_tiers')")) is None
        assert await _scores(connection) == scores
        triggers = await connection.scalar(
            text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'household_tiers%'")
        )
        assert triggers == 0

    await upgrade(scratch.engine, STORED)
    async with scratch.engine.begin() as connection:
        assert await _stored(connection) == expected | {ids["crisis_resolved"]: "specialist"}
