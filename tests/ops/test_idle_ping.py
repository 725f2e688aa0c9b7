"""Pooled connections are pinged only after sitting idle: a dropped idle connection is replaced before a
request sees it, and a recently used one costs no round trip (app.db.ping_when_idle)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from app.db import Database
from app.settings import Settings
from app.web.outage import is_database_unavailable

IDLE = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def one_connection(url: str, settings: Settings, clock: Clock) -> Database:
    return Database(url, settings, pool_size=1, max_overflow=0, idle_ping_seconds=IDLE, clock=clock)


async def backend_pid(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def drop_connection(url: str, pid: int) -> None:
    """What a database restart or an idle timeout on the way does to a pooled connection."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    other = await asyncpg.connect(dsn)
    try:
        assert await other.fetchval("SELECT pg_terminate_backend($1)", pid)
        for _ in range(200):
            if not await other.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
                break
            await asyncio.sleep(0.01)
    finally:
        await other.close()


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    migrated: str, settings: Settings
) -> None:
    clock = Clock()
    db = one_connection(migrated, settings, clock)
    try:
        first = await backend_pid(db)
        await drop_connection(migrated, first)
        clock.now += IDLE + 1  # it sat in the pool for longer than the threshold
        assert await backend_pid(db) != first  # the ping found it dead: a new connection served
    finally:
        await db.dispose()


async def test_a_recently_used_connection_is_not_pinged(migrated: str, settings: Settings) -> None:
    clock = Clock()
    db = one_connection(migrated, settings, clock)
    try:
        first = await backend_pid(db)
        await drop_connection(migrated, first)
        clock.now += IDLE / 2
        # No ping, so the request itself meets the dead connection: a 503 for the caller ...
        with pytest.raises(Exception) as failure:
            await backend_pid(db)
        assert is_database_unavailable(failure.value)
        # ... and the pool replaces it for the next one.
        assert await backend_pid(db) != first
    finally:
        await db.dispose()
