"""Alembic owns the schema: the chain goes up, down to nothing and up again, and matches the models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from app.db import Database
from app.migrations import MIGRATION_LOCK_KEY, downgrade, head_revisions, upgrade
from app.models import include_name, metadata
from app.settings import Settings


def _tables(connection: Connection) -> set[str]:
    rows = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    return {row[0] for row in rows}


def _pending_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    return list(compare_metadata(context, metadata))


async def test_upgrade_downgrade_upgrade_round_trip(scratch: Database) -> None:
    assert len(head_revisions()) == 1, "the migration chain must have exactly one head"
    await upgrade(scratch.engine)
    async with scratch.engine.connect() as connection:
        created = await connection.run_sync(_tables)
    assert set(metadata.tables) <= created

    await downgrade(scratch.engine, "base")
    async with scratch.engine.connect() as connection:
        assert await connection.run_sync(_tables) <= {"alembic_version"}

    await upgrade(scratch.engine)
    async with scratch.engine.connect() as connection:
        assert await connection.run_sync(_tables) == created
        # Seeds come back with the schema (life domains and themes are configuration, seeded once).
        assert await connection.scalar(text("SELECT count(*) FROM life_domains")) == 12


async def test_models_and_migrations_agree(scratch: Database) -> None:
    await upgrade(scratch.engine)
    async with scratch.engine.connect() as connection:
        diff = await connection.run_sync(_pending_diff)
    assert diff == [], f"models differ from the migrations; add a revision (scripts/new_migration.py): {diff}"


async def test_a_migration_is_not_cut_short_by_the_api_statement_timeout(
    scratch: Database, settings: Settings
) -> None:
    """A back-fill over a real municipality's data runs longer than a request may (0270's took over 5 s
    at 100,000 households and failed), and an instance starting while another migrates waits for it:
    here the other holds the migration lock well past a 100 ms statement timeout, and the upgrade waits
    and completes instead of being cancelled."""
    url = scratch.engine.url.render_as_string(hide_password=False)
    strict = Database(url, settings.model_copy(update={"statement_timeout_ms": 100}))
    try:
        async with scratch.engine.begin() as other:
            await other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            migrating = asyncio.create_task(upgrade(strict.engine))
            await asyncio.sleep(0.5)
            assert not migrating.done()
        await migrating
        async with strict.engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM life_domains")) == 12
            assert await connection.scalar(text("SHOW statement_timeout")) == "100ms"
    finally:
        await strict.dispose()
