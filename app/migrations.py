"""Running Alembic from the code: `serve`, `migrate`, the tests and /readyz use these."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
MIGRATION_LOCK_KEY = 0x5A17_3E6B  # any constant shared by every Wijkwerk process


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url is not None:
        config.attributes["url"] = url
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def _run(engine: AsyncEngine, action: str, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)

    async with engine.begin() as connection:
        # A migration is not a request: a back-fill over a municipality's data (0205, 0270) runs longer
        # than the API's per-statement limit, and an instance starting while another migrates waits for
        # it as long as that takes. The connection's limit returns when this transaction ends.
        await connection.execute(text("SET LOCAL statement_timeout = 0"))
        # Several instances starting at once: one migrates, the others wait and find nothing to do.
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.run_sync(run)


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    await _run(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run(engine, "downgrade", revision)


async def current_and_head(engine: AsyncEngine) -> tuple[set[str], set[str]]:
    """The revisions the database is at, and the heads of the migration scripts."""

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        revisions = await connection.run_sync(current)
    return revisions, head_revisions()
