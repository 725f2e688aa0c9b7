"""Waiting, in a test, until another connection waits for a lock: how the concurrency tests order two
transactions without sleeping for a guessed time."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def until_waiting_for_a_lock(engine: AsyncEngine, pid: int) -> None:
    """Return once the backend ``pid`` waits for a lock (polled every 10 ms, for 30 s at most)."""
    waiting = text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid")
    async with engine.connect() as watcher:
        for _ in range(3000):
            if await watcher.scalar(waiting, {"pid": pid}):
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the second transaction never waited for the first")
