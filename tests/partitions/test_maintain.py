"""`wijkwerk partitions maintain`: the coming months of the access log and the change feed are made
ahead of time, running it again makes nothing, and a month whose rows already sit in the default
partition is reported and left alone (moving them would delete from the append-only log)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from sqlalchemy import text

from app import cli
from app.db import Database
from app.domain.unit_of_work import partitions
from app.migrations import upgrade
from app.settings import Settings
from tests.cli.support import command_env, invoke, output_json


async def test_maintain_makes_the_coming_months_once(
    scratch: Database, settings: Settings, tmp_path: Path
) -> None:
    await upgrade(scratch.engine)  # this month and three ahead
    async with scratch.engine.connect() as connection:
        now = (await connection.scalar(text("SELECT now()"))).astimezone(UTC)
    coming = partitions.coming_months(now, 6)
    # A row six months ahead (a wrong clock, or maintenance that never ran) lands in the default.
    async with scratch.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO case_changes (household_id, entity, entity_id, op, changed_at)"
                " VALUES (gen_random_uuid(), 'household', gen_random_uuid(), 'upsert', :at)"
            ),
            {"at": coming[6]},
        )
    env = command_env(scratch.url, settings, tmp_path / "data") | {"WIJKWERK_PARTITION_MONTHS_AHEAD": "6"}

    made = output_json(await invoke(["partitions", "maintain", "--json"], env))
    expected = {t.name(m) for t in partitions.TABLES for m in coming[4:]} - {
        partitions.CHANGE_FEED.name(coming[6])
    }
    assert set(made["created"]) == expected
    assert made["in_default"] == [partitions.CHANGE_FEED.name(coming[6])]

    again = output_json(await invoke(["partitions", "maintain", "--json"], env))
    assert again == {"created": [], "in_default": [partitions.CHANGE_FEED.name(coming[6])]}
    async with scratch.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM case_changes_default")) == 1
        # A month made by the job is as append-only as the ones the migration made.
        triggers = await connection.scalar(
            text("SELECT count(*) FROM pg_trigger WHERE tgrelid = CAST(:name AS regclass)"),
            {"name": partitions.ACCESS_LOG.name(coming[6])},
        )
    assert triggers == 2  # the cloned row trigger and its own TRUNCATE trigger


PARTITIONS = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent IN ('access_log'::regclass, 'case_changes'::regclass) AND c.relkind = 'r'"
    " AND c.relname NOT LIKE '%default'"
)


async def test_serve_makes_the_coming_months_at_start_up(scratch: Database, settings: Settings) -> None:
    """`wijkwerk serve` migrates and then maintains the partitions before it serves."""
    ahead = settings.model_copy(update={"partition_months_ahead": 5})
    await cli._prepare(scratch.url, ahead, demo=False, households=None)
    async with scratch.engine.connect() as connection:
        now = (await connection.scalar(text("SELECT now()"))).astimezone(UTC)
        names = set((await connection.execute(PARTITIONS)).scalars())
    assert names == {t.name(m) for t in partitions.TABLES for m in partitions.coming_months(now, 5)}
