"""Count the SQL statements the app sends, at the driver: whoever sends them (an SQLAlchemy session or
the hot reads' own asyncpg pool), as PostgreSQL receives them. (SQLAlchemy's ``before_cursor_execute``
does not see statements sent on a plain asyncpg connection.) The benchmark counts the same way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from asyncpg.prepared_stmt import PreparedStatement

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


def is_control(query: str) -> bool:
    """Transaction control (BEGIN [ISOLATION ...], COMMIT, ROLLBACK) or a pool ping (";")."""
    words = query.strip().rstrip(";").upper().split()
    return not words or words[0] in {"BEGIN", "COMMIT", "ROLLBACK"}


class Statements(list[str]):
    """The SQL a block sent (without transaction control and pings); ``.all`` has those too."""

    all: list[str]


@contextmanager
def counting_statements() -> Iterator[Statements]:
    statements = Statements()
    with recording() as calls:
        yield statements
    statements.all = [" ".join(query.split()) for query, _ in calls]
    statements.extend(s for s in statements.all if not is_control(s))
