"""Engine and sessions: one session and one transaction per request, committed once, by the request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.settings import Settings


def async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as most platforms hand them out) and use asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


class Database:
    """The engine and session factory of one process."""

    def __init__(self, url: str, settings: Settings, **engine_options: Any) -> None:
        options: dict[str, Any] = {
            "pool_pre_ping": True,
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
