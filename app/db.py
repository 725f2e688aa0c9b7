"""Engine and sessions: one session and one transaction per request, committed once, by the request."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.settings import Settings

# A pooled connection idle for longer than this is pinged before use (see ``ping_when_idle``).
IDLE_PING_SECONDS = 10.0
_RETURNED_AT = "wijkwerk_returned_at"


def async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as most platforms hand them out) and use asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


class Database:
    """The engine and session factory of one process."""

    def __init__(
        self,
        url: str,
        settings: Settings,
        *,
        idle_ping_seconds: float | None = IDLE_PING_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        **engine_options: Any,
    ) -> None:
        options: dict[str, Any] = {
            # Error texts must never carry submitted values (a BSN, a note) into logs.
            "hide_parameters": True,
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_timeout": 10,
            "connect_args": {
                "timeout": 5,
                "server_settings": {
                    "statement_timeout": str(settings.statement_timeout_ms),
                    "application_name": "wijkwerk",
                },
            },
        }
        options.update(engine_options)
        self.url = async_url(url)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if not options.get("pool_pre_ping") and idle_ping_seconds is not None:
            ping_when_idle(self.engine.sync_engine, idle_ping_seconds, clock)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block ends without an error (CLI, jobs, tests)."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()


def ping_when_idle(engine: Engine, idle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
    """Ping a pooled connection at checkout only when it sat idle for more than ``idle_seconds``.

    ``pool_pre_ping`` pings on every checkout (with asyncpg: BEGIN, ";", ROLLBACK, three round trips
    per request). A connection handed back moments ago is as good as the request that used it; one
    that sat idle may have been dropped (a database restart, a failover, an idle timeout on the way),
    and is replaced before the request sees it. A connection that breaks while busy still fails that
    request (503, ``app.api.problems``), and the pool then recycles every older connection.
    """

    @event.listens_for(engine, "connect")
    def fresh(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = clock()

    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_RETURNED_AT] = clock()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and clock() - returned_at <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # As pool_pre_ping does: this connection and every older one are replaced (a restart or
            # a failover took them all); the pool checks out a new one for this request.
            raise exc.InvalidatePoolError("an idle pooled connection did not answer its ping") from error
        record.info[_RETURNED_AT] = clock()
