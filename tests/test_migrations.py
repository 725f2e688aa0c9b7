"""Alembic owns the schema: the chain goes up, down to nothing and up again, and matches the models."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
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


def test_0290_locks_the_locations_before_it_copies_their_buurten(monkeypatch: pytest.MonkeyPatch) -> None:
    """0290 creates its triggers (CREATE TRIGGER takes directory_locations' SHARE ROW EXCLUSIVE lock
    until the commit) before the copy: a move committed after the copy's snapshot and before the
    triggers existed would leave its links' buurt wrong for good. The SAL index comes before the
    copy (the copy leaves trigger events pending, and a table with pending ones cannot be indexed)."""
    path = Path(__file__).parents[1] / "migrations" / "versions" / "0290_directory_buurt_sets.py"
    spec = importlib.util.spec_from_file_location("migration_0290", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    steps: list[str] = []
    recorder = SimpleNamespace(
        add_column=lambda table, *_: steps.append(f"add column {table}"),
        create_index=lambda name, *_, **__: steps.append(f"index {name}"),
        drop_index=lambda name, **_: steps.append(f"drop {name}"),
        execute=lambda statement: steps.append(" ".join(str(statement).split())),
    )
    monkeypatch.setattr(migration, "op", recorder)  # the module reads its `op` at call time
    migration.upgrade()
    moves = next(i for i, s in enumerate(steps) if "TRIGGER directory_locations_moved AFTER UPDATE" in s)
    copy = next(i for i, s in enumerate(steps) if s.startswith("UPDATE directory_service_at_locations"))
    index = steps.index("index ix_directory_sal_buurt_service")
    assert index < moves < copy, steps
