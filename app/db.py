"""The database plumbing of one process: the engine and its pool, sessions, the read-only engines of
streaming replicas, and pre-compiled raw statements (``RawStatement``) for the few paths where
SQLAlchemy's per-call work would dominate.

Requests do not open sessions themselves: the unit of work (``app.domain.unit_of_work``) does, one per
request, and commits it once. Reads that write nothing and may be a few seconds behind ask
``Database.reading()`` (through ``UnitOfWork.reading()`` or the GraphQL queries' reads): a replica's
session when one is configured, reachable and close enough behind, else the primary's.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import asyncpg
from sqlalchemy import event, exc, text
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.settings import DatabasePooler, Settings

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

    Reads that may lag go through ``reading()``: with ``read_urls`` (``WIJKWERK_READ_DATABASE_URL``)
    to a streaming replica, through a read-only engine per replica (``Replica``); without them to
    the primary, exactly as before (no other engine is made).
    """

    def __init__(
        self,
        url: str,
        settings: Settings,
        *,
        idle_ping_seconds: float | None = IDLE_PING_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        read_urls: Sequence[str] = (),
        on_read_fallback: Callable[[Fallback], None] | None = None,
        **engine_options: Any,
    ) -> None:
        options = _engine_options(settings, "wijkwerk") | engine_options
        self.url = async_url(url)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if not options.get("pool_pre_ping") and idle_ping_seconds is not None:
            ping_when_idle(self.engine.sync_engine, idle_ping_seconds, clock)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.replicas = tuple(
            Replica(f"replica{n}", read_url, settings, clock=clock)
            for n, read_url in enumerate(read_urls, start=1)
        )
        self.pooled = settings.database_pooler is DatabasePooler.transaction
        self.reads = ReadRouting(
            _read_sessions(self.engine, pooled=self.pooled),
            self.replicas,
            max_lag=settings.read_max_lag_seconds,
            check_seconds=settings.read_check_seconds,
            on_fallback=on_read_fallback,
        )
        self._settings = settings
        self._statements: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        # The raw pool's connections (by server process id) whose plan cache mode is generic.
        self._generic: set[int] = set()

    def reading(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session for reads that write nothing and may be a few seconds behind, its statements
        without a transaction (AUTOCOMMIT): on a replica when one is usable, else on the primary."""
        return self.reads.session()

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
        transaction around it (a single statement is atomic), in one round trip; behind a pooler in
        transaction mode, in a transaction of its own (``_raw``)."""
        async with self._raw(statement) as connection:
            return await connection.fetchrow(statement.sql, *statement.args(values))

    async def fetch_all(self, statement: RawStatement, values: Mapping[str, Any]) -> list[Any]:
        """Every row (asyncpg Records) of a single raw statement run on its own, like ``fetch_one``."""
        async with self._raw(statement) as connection:
            return list(await connection.fetch(statement.sql, *statement.args(values)))

    async def read_one(self, statement: RawStatement, values: Mapping[str, Any]) -> Any:
        """The one row (or None) of a single raw read that writes nothing and may be a few seconds
        behind (as ``reading()``): on a streaming replica's read session when one is configured (its
        routing and fallback are ``reading()``'s), else on the primary as ``fetch_one`` (one round
        trip, no session, no transaction: the hot public reads). Like ``fetch_one``'s, its row is read
        by column name (``row["name"]``), which an asyncpg Record and a SQLAlchemy RowMapping both answer."""
        if not self.replicas:
            return await self.fetch_one(statement, values)
        async with self.reading() as session:
            return await fetch_one(await session.connection(), statement, values)

    @asynccontextmanager
    async def _raw(self, statement: RawStatement) -> AsyncIterator[asyncpg.Connection]:
        pool = self._statements or await self._open_statements()
        # As long as the engine's pool waits (pool_timeout); a timeout or a dead server answers 503.
        # The deadline as a timeout scope around the wait, not asyncpg's ``acquire(timeout=)``, which
        # runs every acquisition as a task of its own (``wait_for``): this is every raw statement.
        async with asyncio.timeout(10):
            connection = await pool.acquire()
        try:
            if not self.pooled:
                await self._plan_for(connection, statement)
                yield connection
                return
            # Behind a pooler in transaction mode a server connection is only ours inside a
            # transaction: the statement's parse and its execution must not be handed to two servers.
            async with connection.transaction():
                yield connection
        finally:
            await pool.release(connection)

    async def _plan_for(self, connection: asyncpg.Connection, statement: RawStatement) -> None:
        """The plan cache mode ``statement`` asks for (``RawStatement.generic``), set on the connection
        when it is not that already: a round trip only when a connection goes from one kind of
        statement to the other. A connection is known by its server's process id, forgotten when
        the pool makes a connection (``_fresh``: a new one starts at the default, ``auto``) and when
        one closes. The ids known as generic are only ever too many, never too few: a statement that
        wants the default then sends a needless RESET."""
        pid = connection.get_server_pid()
        if (pid in self._generic) == statement.generic:
            return
        if statement.generic:
            # Known as generic before the SET is sent: a task cancelled while it is in flight may
            # leave the server generic (it applied the SET), never unknown to us (the next default
            # statement then sends a RESET, needless at worst).
            self._generic.add(pid)
            await connection.execute("SET plan_cache_mode = force_generic_plan")
        else:
            await connection.execute("RESET plan_cache_mode")
            self._generic.discard(pid)

    async def _fresh(self, connection: asyncpg.Connection) -> None:
        """A connection the raw pool made: at the default plan cache mode whatever ran before under
        its (reused) server process id, and forgotten when it closes (the set holds only live ones)."""
        pid = connection.get_server_pid()
        self._generic.discard(pid)
        connection.add_termination_listener(lambda _connection: self._generic.discard(pid))

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
                    init=self._fresh,
                    timeout=5,
                    server_settings=_server_settings(settings, "wijkwerk"),
                    # No statements kept per server connection behind a pooler (asyncpg's cache).
                    **({"statement_cache_size": 0} if self.pooled else {}),
                )
            return self._statements

    async def dispose(self) -> None:
        if self._statements is not None:
            await self._statements.close()
            self._statements = None
        self._generic.clear()
        for replica in self.replicas:
            await replica.engine.dispose()
        await self.engine.dispose()


def _server_settings(settings: Settings, application_name: str, **extra: str) -> dict[str, str]:
    """The session settings sent when a connection starts. Behind a pooler in transaction mode a
    server connection serves many clients in turn and PgBouncer refuses startup parameters it does
    not track, so only ``application_name`` (which it tracks per client) is sent: the statement
    timeout is then the role's or the database's (``ALTER ROLE ... SET statement_timeout``,
    docs/operations.md)."""
    if settings.database_pooler is DatabasePooler.transaction:
        return {"application_name": application_name, **extra}
    return {
        "statement_timeout": str(settings.statement_timeout_ms),
        "application_name": application_name,
        **extra,
    }


def _pooler_connect_args(settings: Settings) -> dict[str, Any]:
    """Prepared statements behind a pooler in transaction mode, as SQLAlchemy's asyncpg dialect
    documents for PgBouncer: none cached per connection (asyncpg's cache and the dialect's), and each
    named uniquely, so a server connection another client used never holds one of the same name."""
    if settings.database_pooler is not DatabasePooler.transaction:
        return {}
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": _statement_name,
    }


def _statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4()}__"


def _engine_options(settings: Settings, application_name: str, **server_settings: str) -> dict[str, Any]:
    return {
        # Error texts must never carry submitted values (a BSN, a note) into logs.
        "hide_parameters": True,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": 10,
        "connect_args": {
            "timeout": 5,
            "server_settings": _server_settings(settings, application_name, **server_settings),
            **_pooler_connect_args(settings),
        },
    }


def _read_sessions(engine: AsyncEngine, *, pooled: bool) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads. Directly connected, their statements run without a transaction: a read
    of one or a few statements saves BEGIN and COMMIT, and at READ COMMITTED (never changed here) each
    statement sees a snapshot of its own inside a transaction too; the pool resets the isolation
    level when a connection comes back. Behind a pooler in transaction mode, in a transaction as
    every other session: outside one, a statement's parse and its execution may be handed to two
    different server connections."""
    if pooled:
        return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(autocommit, expire_on_commit=False, autoflush=False)


# -- streaming replicas ------------------------------------------------------------------------------


class Fallback(StrEnum):
    """Why a read meant for a replica went to the primary (the label of the fallback metric)."""

    # No connection, or the check or the session's first checkout failed.
    unreachable = "unreachable"
    # Further behind the primary than ``read_max_lag_seconds``, or by an unknown amount.
    lagging = "lagging"
    # The server is not replaying a primary's WAL (promoted, or not a replica at all): its data may
    # have parted from the primary's.
    not_replaying = "not_replaying"


# One small statement, no table read: is the server replaying, is a WAL receiver streaming, has it
# replayed all it received, and how old is the last transaction it replayed. A replica of an idle
# primary replays nothing new for a long time; caught up with a live receiver, it lags by nothing.
REPLICA_STATE = text(
    "SELECT pg_is_in_recovery() AS replaying,"
    " EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS streaming,"
    " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() AS caught_up,"
    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS behind"
)
# A replica that does not answer its check within this long is taken as unreachable.
CHECK_TIMEOUT_SECONDS = 2.0
_UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresError, exc.SQLAlchemyError)


def replica_lag(replaying: bool, streaming: bool, caught_up: bool, behind: float | None) -> float | None:
    """Seconds a replica is behind its primary (0 when caught up with a live receiver; None when it
    is not a replica), from what ``REPLICA_STATE`` reads. Unknown (nothing replayed yet and not
    known to be caught up) is infinitely far."""
    if not replaying:
        return None
    if streaming and caught_up:
        return 0.0
    return max(behind, 0.0) if behind is not None else float("inf")


@dataclass(frozen=True)
class Verdict:
    """What a replica's last check found: usable or why not, its lag, when (the routing's clock)."""

    fallback: Fallback | None
    lag: float | None
    checked_at: float

    @property
    def usable(self) -> bool:
        return self.fallback is None


_UNCHECKED = Verdict(Fallback.unreachable, None, float("-inf"))


class Replica:
    """One streaming replica: a read-only engine (every transaction READ ONLY, so nothing written
    through it can succeed even on a server that is no replica) and what its last check found.

    A pooled connection the server has closed (the replica stopped or restarted) is replaced at
    checkout, so the first read after an outage fails over to the primary instead of failing."""

    def __init__(
        self, name: str, url: str, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        options = _engine_options(settings, "wijkwerk-read", default_transaction_read_only="on")
        options["connect_args"]["timeout"] = CHECK_TIMEOUT_SECONDS
        self.engine: AsyncEngine = create_async_engine(async_url(url), **options)
        ping_when_idle(self.engine.sync_engine, IDLE_PING_SECONDS, clock)
        replace_closed_at_checkout(self.engine.sync_engine)
        self.sessions = _read_sessions(
            self.engine, pooled=settings.database_pooler is DatabasePooler.transaction
        )
        self.verdict = _UNCHECKED
        self._clock = clock
        self._checking = False

    async def current(self, max_lag: float, check_seconds: float) -> Verdict:
        """The verdict, checked again when older than ``check_seconds``. While one read checks, the
        others go by the previous verdict: no read waits on another's check."""
        if self._checking or self._clock() - self.verdict.checked_at < check_seconds:
            return self.verdict
        self._checking = True
        try:
            self.verdict = await self._check(max_lag)
        finally:
            self._checking = False
        return self.verdict

    async def _check(self, max_lag: float) -> Verdict:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                async with self.sessions() as session:
                    row = (await session.execute(REPLICA_STATE)).one()
        except _UNREACHABLE:
            return Verdict(Fallback.unreachable, None, self._clock())
        lag = replica_lag(row.replaying, row.streaming, row.caught_up, row.behind)
        if lag is None:
            return Verdict(Fallback.not_replaying, None, self._clock())
        return Verdict(Fallback.lagging if lag > max_lag else None, lag, self._clock())

    def unreachable(self) -> None:
        """A read found the replica gone: no read goes there until the next check finds it back."""
        self.verdict = Verdict(Fallback.unreachable, None, self._clock())


class ReadRouting:
    """Where ``Database.reading()`` reads: the usable replicas in turn, else the primary (counted,
    with the reason, through ``on_fallback``)."""

    def __init__(
        self,
        primary: async_sessionmaker[AsyncSession],
        replicas: Sequence[Replica],
        *,
        max_lag: float,
        check_seconds: float,
        on_fallback: Callable[[Fallback], None] | None = None,
    ) -> None:
        self.primary = primary
        self.replicas = tuple(replicas)
        self.max_lag = max_lag
        self.check_seconds = check_seconds
        self.on_fallback = on_fallback
        self._next = 0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        opened = await self._replica_session() if self.replicas else None
        if opened is None:
            async with self.primary() as session:
                yield session
            return
        replica, session = opened
        try:
            yield session
        except exc.DBAPIError as error:
            if error.connection_invalidated:
                replica.unreachable()
            raise
        finally:
            await session.close()

    async def _replica_session(self) -> tuple[Replica, AsyncSession] | None:
        """A session on the next usable replica with its connection taken (so a replica that went
        away since its check is found out here, not in the middle of the read); None when none is."""
        first: Fallback | None = None
        start, self._next = self._next, (self._next + 1) % len(self.replicas)
        for replica in self.replicas[start:] + self.replicas[:start]:
            verdict = await replica.current(self.max_lag, self.check_seconds)
            if verdict.usable:
                session = replica.sessions()
                try:
                    await session.connection()
                    return replica, session
                except _UNREACHABLE:
                    await session.close()
                    replica.unreachable()
                    verdict = replica.verdict
            if verdict.checked_at != _UNCHECKED.checked_at:
                first = first or verdict.fallback
        if first is not None and self.on_fallback is not None:
            self.on_fallback(first)
        return None


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
    # Planned once per connection (``plan_cache_mode = force_generic_plan`` while it runs on the raw
    # pool): for a statement whose plan does not depend on its values, whose planning costs as much
    # as a good part of its execution, and which PostgreSQL would not keep a generic plan of by itself
    # (it compares the generic plan's estimate, made without the values, with the custom plans').
    generic: bool = False

    @classmethod
    def of(cls, statement: Any, *, generic: bool = False) -> RawStatement:
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
        return cls(sql, tuple(names), processors, generic)

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


def replace_closed_at_checkout(engine: Engine) -> None:
    """A pooled connection whose server side is gone (the driver saw it close) is replaced at
    checkout instead of failing the statement it was checked out for."""

    @event.listens_for(engine, "checkout")
    def replace_if_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = record.driver_connection
        if driver is not None and driver.is_closed():
            raise exc.DisconnectionError("a pooled connection was closed by the server")


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
