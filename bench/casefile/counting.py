"""Count the SQL statements a request sends, in process (never in the served app).

Two views: the driver's (every statement asyncpg sends, as the tests count them: the hot reads' own
pool, SQLAlchemy's prepared statements, and the BEGIN/COMMIT/ROLLBACK and pool pings around them), and
SQLAlchemy's ``before_cursor_execute`` (what the ORM/Core layer executes). The driver view is the one
that compares an app with its floor, which uses asyncpg directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.households.statements import Call, recording


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
