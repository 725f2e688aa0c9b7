"""The maintained rollups the statistics read (materialized views, migration 0061), and their refresh.

Figures come from the rollups, not from the case tables: a request reads a few thousand pre-grouped
rows instead of aggregating 100k households and a million contact moments. A refresh recomputes all
four views in ONE transaction with ``REFRESH MATERIALIZED VIEW CONCURRENTLY``: readers keep reading
the previous contents until it commits, then see the new ones together (``stats_rollup_state`` says
when they were made; responses carry it as ``as_of``). Refreshes never run twice at once (an
advisory lock), and are started by ``wijkwerk stats refresh``, by a schedule, or in the background
by a statistics request that finds the rollups older than the configured age.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.unit_of_work import public_data

log = logging.getLogger(__name__)

# Refreshed in this order; the state view last, so its time is the transaction's (all or nothing).
VIEWS = ("stats_flow_rollup", "stats_stock_rollup", "stats_value_rollup", "stats_rollup_state")
_LOCK_KEY = 0x7374_6174  # pg advisory lock: one refresh at a time per database
DEFAULT_MAX_AGE = timedelta(minutes=15)
_background: set[asyncio.Task[None]] = set()


async def refreshed_at(session: AsyncSession) -> datetime:
    value = await session.scalar(text("SELECT refreshed_at FROM stats_rollup_state"))
    return value if isinstance(value, datetime) else datetime.min.replace(tzinfo=UTC)


async def refresh(session: AsyncSession, *, wait: bool = True) -> datetime | None:
    """Recompute every rollup in the caller's transaction; None when another refresh runs (``wait``
    False). The caller commits; until then readers see the previous contents."""
    if wait:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    elif not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}):
        return None
    # The stock rollup groups ~1.5M change rows at 100k households: in memory, not in temp files;
    # and a refresh may take longer than a request's statement timeout.
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    await session.execute(text("SET LOCAL statement_timeout = '15min'"))
    for view in VIEWS:
        await session.execute(text(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}"))
    await public_data.bump(session)  # public figures changed: cached dashboard answers are stale
    return await refreshed_at(session)


def max_age(settings: Any) -> timedelta:
    """How old the rollups may be before a request starts a refresh (``stats_refresh_seconds``)."""
    seconds = getattr(settings, "stats_refresh_seconds", None)
    return DEFAULT_MAX_AGE if seconds is None else timedelta(seconds=seconds)


def refresh_if_stale(db: Any, settings: Any, as_of: datetime | None) -> None:
    """Figures just read from rollups older than ``max_age`` start a refresh in the background (the
    answer itself is not held up; the next one is fresher)."""
    if as_of is not None and datetime.now(UTC) - as_of > max_age(settings):
        refresh_in_background(db)


def refresh_in_background(db: Any) -> bool:
    """Start one background refresh in this process (``db`` is the app's Database); False when one
    is already running here. Errors are logged, never raised into a request."""
    if _background:
        return False
    task = asyncio.get_running_loop().create_task(_refresh_task(db))
    _background.add(task)
    task.add_done_callback(_background.discard)
    return True


async def _refresh_task(db: Any) -> None:
    try:
        async with db.transaction() as session:
            done = await refresh(session, wait=False)
        log.info("statistics rollups refreshed", extra={"refreshed": done is not None})
    except Exception:  # a failed refresh leaves the previous rollups in place
        log.exception("statistics rollup refresh failed")
