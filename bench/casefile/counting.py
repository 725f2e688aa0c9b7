"""Count the SQL statements a request sends, in process (never in the served app).

Two views: the driver's (every statement asyncpg sends: the hot reads' own
pool, SQLAlchemy's prepared statements, and the BEGIN/COMMIT/ROLLBACK and pool pings around them), and
SQLAlchemy's ``before_cursor_execute`` (what the ORM/Core layer executes). The driver view is the one
that compares an app with its floor, which uses asyncpg directly; it wraps asyncpg's connection methods,
as no public hook sees prepared statements run. (The tests count through public hooks of the app's
``Database``: ``tests/support/statements.py``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from asyncpg.prepared_stmt import PreparedStatement
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

Call = tuple[str, tuple[Any, ...]]


@contextmanager
def recording() -> Iterator[list[Call]]:
    """Every statement asyncpg sends in the block, with its arguments, in order: prepared statements,
    plain ``fetch``/``execute`` calls, and BEGIN/COMMIT/ROLLBACK and pool pings (";")."""
    calls: list[Call] = []
    connection = asyncpg.Connection
    execute, extended, many = connection.execute, connection._execute, connection._executemany
    bind_execute = PreparedStatement._PreparedStatement__bind_execute

    async def simple(self: Any, query: str, *args: Any, **kw: Any) -> Any:
        if not args:  # the simple-query protocol; with arguments it goes through _execute
            calls.append((query, ()))
        return await execute(self, query, *args, **kw)

    async def with_args(self: Any, query: str, args: Any, *rest: Any, **kw: Any) -> Any:
        calls.append((query, tuple(args)))
        return await extended(self, query, args, *rest, **kw)

    async def with_many(self: Any, query: str, args: Any, *rest: Any, **kw: Any) -> Any:
        calls.append((query, tuple(args)))
        return await many(self, query, args, *rest, **kw)

    async def prepared(self: Any, args: Any, *rest: Any, **kw: Any) -> Any:
        calls.append((self.get_query(), tuple(args)))
        return await bind_execute(self, args, *rest, **kw)

    patches = {"execute": simple, "_execute": with_args, "_executemany": with_many}
    originals = {name: getattr(connection, name) for name in patches}
    for name, patch in patches.items():
        setattr(connection, name, patch)
    PreparedStatement._PreparedStatement__bind_execute = prepared
    try:
        yield calls
    finally:
        for name, original in originals.items():
            setattr(connection, name, original)
        PreparedStatement._PreparedStatement__bind_execute = bind_execute


@dataclass
class Counter:
    calls: list[Call] = field(default_factory=list)  # driver level, in order
    cursor: int = 0  # SQLAlchemy before_cursor_execute

    @property
    def statements(self) -> list[str]:
        return [" ".join(query.split()) for query, _ in self.calls]


@contextmanager
def counting(engine: AsyncEngine | None = None) -> Iterator[Counter]:
    counter = Counter()

    def on_cursor(*_: Any) -> None:
        counter.cursor += 1

    if engine is not None:
        event.listen(engine.sync_engine, "before_cursor_execute", on_cursor)
    try:
        with recording() as calls:
            counter.calls = calls
            yield counter
    finally:
        if engine is not None:
            event.remove(engine.sync_engine, "before_cursor_execute", on_cursor)
