"""The database plumbing of one process: the engine and its pool, sessions, and pre-compiled raw
statements (``RawStatement``) for the few paths where SQLAlchemy's per-call work would dominate.

Requests do not open sessions themselves: the unit of work (``app.domain.unit_of_work``) does, one per
request, and commits it once.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event, exc
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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
    """The database of one process: the engine (its pool, sessions, transactions) and the pool that
    runs single raw statements on their own.

    Two pools, each sized ``db_pool_size``, because a single statement without a transaction needs
    none of what SQLAlchemy's connection wraps around it: checking a connection out of the engine
    and back costs three greenlet switches and the connection's bookkeeping, as much CPU as the
    household list's whole statement. The hot reads (``UnitOfWork.fetch_one`` outside a
    transaction) take a connection of the raw pool, run one statement and give it back; everything
    else uses the engine. Both pools are made and closed here, nowhere else.
    """

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
        self._settings = settings
        self._statements: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

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

    async def fetch_one(self, statement: RawStatement, values: Mapping[str, Any]) -> Any:
        """The one row (an asyncpg Record, or None) of a single raw statement run on its own: no
        transaction around it (a single statement is atomic), in one round trip."""
        pool = self._statements or await self._open_statements()
        # As long as the engine's pool waits (pool_timeout); a timeout or a dead server answers 503.
        async with pool.acquire(timeout=10) as connection:
            return await connection.fetchrow(statement.sql, *statement.args(values))

    async def fetch_all(self, statement: RawStatement, values: Mapping[str, Any]) -> list[Any]:
        """Every row (asyncpg Records) of a single raw statement run on its own, like ``fetch_one``."""
        pool = self._statements or await self._open_statements()
        async with pool.acquire(timeout=10) as connection:
            return list(await connection.fetch(statement.sql, *statement.args(values)))

    async def _open_statements(self) -> asyncpg.Pool:
        async with self._opening:
            if self._statements is None:
                settings = self._settings
                dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._statements = await asyncpg.create_pool(
                    dsn,
                    min_size=0,
                    max_size=settings.db_pool_size,
                    # A single statement in autocommit leaves nothing behind: no reset round trip.
                    reset=_nothing_to_reset,
                    timeout=5,
                    server_settings={
                        "statement_timeout": str(settings.statement_timeout_ms),
                        "application_name": "wijkwerk",
                    },
                )
            return self._statements

    async def dispose(self) -> None:
        if self._statements is not None:
            await self._statements.close()
            self._statements = None
        await self.engine.dispose()


async def _nothing_to_reset(connection: Any) -> None:
    return None


# -- raw statements ----------------------------------------------------------------------------------

_ASYNCPG = postgresql_asyncpg.dialect(paramstyle="pyformat")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@dataclass(frozen=True)
class RawStatement:
    """A statement compiled once for asyncpg: the SQL with ``$n`` placeholders, the parameter name of
    each ``$n`` and its bind processor (JSON, arrays: what SQLAlchemy would apply).

    For the hot paths: a statement with dozens of parameters costs SQLAlchemy more per call to compile
    and process than the database round trip itself. Built from any SQLAlchemy construct (Core or
    ``text()``) with public API only: compiled with named (``pyformat``) placeholders, which are then
    numbered here. Every value comes from the caller: a bound constant is refused (write it in the
    SQL).
    """

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def of(cls, statement: Any) -> RawStatement:
        compiled = statement.compile(dialect=_ASYNCPG)
        binds = compiled.binds
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "%"  # an escaped percent sign of the SQL itself
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        sql = _PLACEHOLDER.sub(number, compiled.string)
        constants = [n for n in names if not binds[n].required]
        if constants:
            raise ValueError(f"bound constants in a raw statement: {constants}")
        processors = tuple(binds[n].type.dialect_impl(_ASYNCPG).bind_processor(_ASYNCPG) for n in names)
        return cls(sql, tuple(names), processors)

    def args(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional arguments, in ``$n`` order, processed for the driver."""
        return tuple(
            process(values[name]) if process is not None else values[name]
            for name, process in zip(self.names, self.processors, strict=True)
        )


async def fetch_one(connection: AsyncConnection, statement: RawStatement, values: Mapping[str, Any]) -> Any:
    """The one row (or None) of a raw statement in ``connection``'s transaction (SQLAlchemy begins it
    as usual when none is open yet)."""
    result = await connection.exec_driver_sql(statement.sql, statement.args(values))
    return result.mappings().first()


async def fetch_all(
    connection: AsyncConnection, statement: RawStatement, values: Mapping[str, Any]
) -> list[Any]:
    """Every row of a raw statement in ``connection``'s transaction, like ``fetch_one``."""
    result = await connection.exec_driver_sql(statement.sql, statement.args(values))
    return list(result.mappings().all())


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
