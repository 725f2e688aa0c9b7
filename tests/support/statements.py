"""Count the SQL statements a block makes the app send: the one statement counter of the tests.

``counting_statements(db)`` records every statement that ``db`` (the app's ``app.db.Database``) runs on
behalf of the block: what SQLAlchemy executes on its engine (seen through its public
``before_cursor_execute`` event) and the single raw statements of the hot reads, which bypass SQLAlchemy
on the database's own asyncpg pool (seen by wrapping ``Database.fetch_one``, the one door to that pool).

Only the block's own work counts: its requests and the tasks they start (a GraphQL query's loaders),
never work that was already running when the block began, such as a statistics refresh another test
started in the background. The block's context carries the counter (a context variable), and asyncio
and SQLAlchemy's greenlets hand it on to what the block starts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import pytest
from sqlalchemy import event

from app.db import Database, RawStatement

# The counters of the blocks the current context runs in (nested blocks each count).
_counters: ContextVar[tuple[Statements, ...]] = ContextVar("statement_counters", default=())


class Statements(list[str]):
    """The SQL a block sent, in order, whitespace collapsed, without transaction control. ``all`` has
    BEGIN, COMMIT and ROLLBACK too (where SQLAlchemy sent them: not on connections in autocommit), and
    ``autocommit`` says for each statement whether it ran outside a transaction."""

    def __init__(self) -> None:
        super().__init__()
        self.all: list[str] = []
        self.autocommit: list[bool] = []

    def statement(self, sql: str, *, autocommit: bool) -> None:
        text = " ".join(sql.split())
        self.append(text)
        self.all.append(text)
        self.autocommit.append(autocommit)

    def control(self, command: str) -> None:
        self.all.append(command)


def _counting(statements: Statements) -> bool:
    return any(counter is statements for counter in _counters.get())


def _autocommit(connection: Any) -> bool:
    return bool(connection.connection.dbapi_connection.autocommit)


@contextmanager
def counting_statements(db: Database) -> Iterator[Statements]:
    statements = Statements()

    def on_statement(connection: Any, cursor: Any, sql: str, *rest: Any) -> None:
        if _counting(statements):
            statements.statement(sql, autocommit=_autocommit(connection))

    def on_control(command: str) -> Any:
        def record(connection: Any) -> None:
            if _counting(statements) and not _autocommit(connection):
                statements.control(command)

        return record

    fetch_one = db.fetch_one

    async def counted_fetch_one(statement: RawStatement, values: Mapping[str, Any]) -> Any:
        if _counting(statements):
            statements.statement(statement.sql, autocommit=True)
        return await fetch_one(statement, values)

    engine = db.engine.sync_engine
    listeners = [
        (engine, "before_cursor_execute", on_statement),
        *((engine, name, on_control(name.upper())) for name in ("begin", "commit", "rollback")),
    ]
    for listener in listeners:
        event.listen(*listener)
    token = _counters.set((*_counters.get(), statements))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(db, "fetch_one", counted_fetch_one)
            yield statements
    finally:
        _counters.reset(token)
        for listener in listeners:
            event.remove(*listener)
