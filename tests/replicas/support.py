"""A streaming replica of a primary of its own for the replica tests: made, caught up, paused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from sqlalchemy import event, text

from app.db import Replica
from app.embedded import EmbeddedReplica

DATABASE = "wijkwerk_replicated"
CATCH_UP_SECONDS = 60.0
POLL_SECONDS = 0.05


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def on_replica(replica: EmbeddedReplica, database: str, sql: str) -> Any:
    """One value of a statement run on the replica as its superuser (not through the app)."""
    connection = await asyncpg.connect(asyncpg_dsn(replica.url(database)))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def caught_up(app: FastAPI, replica: EmbeddedReplica, database: str) -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    await _reached(app, replica, database, "pg_last_wal_replay_lsn()")


async def received(app: FastAPI, replica: EmbeddedReplica, database: str) -> None:
    """Wait until the replica's WAL receiver has everything the primary wrote so far (replayed or
    not): streaming is asynchronous, so a commit on the primary reaches it a moment later."""
    await _reached(app, replica, database, "pg_last_wal_receive_lsn()")


async def _reached(app: FastAPI, replica: EmbeddedReplica, database: str, position: str) -> None:
    async with app.state.db.transaction() as session:
        lsn = await session.scalar(text("SELECT pg_current_wal_lsn()::text"))
    reached = f"SELECT {position} >= '{lsn}'::pg_lsn"
    async with asyncio.timeout(CATCH_UP_SECONDS):
        for _ in range(int(CATCH_UP_SECONDS / POLL_SECONDS)):
            if await on_replica(replica, database, reached):
                return
            await asyncio.sleep(POLL_SECONDS)
    raise AssertionError(f"the replica did not reach the primary's {lsn} within {CATCH_UP_SECONDS}s")


@contextmanager
def statements_on(replica: Replica) -> Iterator[list[str]]:
    """Every statement the app sends to ``replica`` during the block (its checks included)."""
    seen: list[str] = []

    def record(connection: Any, cursor: Any, sql: str, *rest: Any) -> None:
        seen.append(" ".join(sql.split()))

    engine = replica.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def fallbacks(metrics: str, reason: str) -> float:
    """The read-fallback counter for ``reason`` in a /metrics answer (0 when not there yet)."""
    prefix = f'wijkwerk_db_read_fallbacks_total{{reason="{reason}"}} '
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0
