"""The access log is append-only in the database itself: no role, the application's included, can
change or remove what it says."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db import Database

INSERT = text(
    "INSERT INTO access_log (id, actor_subject, actor_role, client_id, resource, action, purpose, outcome) "
    "VALUES (:id, 'tester', 'generalist', 'test-client', 'household', 'read', 'casework', 'allowed')"
)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET outcome = 'denied' WHERE id = :id",
        "DELETE FROM access_log WHERE id = :id",
        "TRUNCATE access_log",
    ],
)
async def test_rows_cannot_be_changed_or_removed(db: Database, statement: str) -> None:
    entry = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(INSERT, {"id": entry})

    with pytest.raises(DBAPIError, match="append-only"):
        async with db.transaction() as session:
            await session.execute(text(statement), {"id": entry})

    async with db.transaction() as session:
        outcome = await session.scalar(text("SELECT outcome FROM access_log WHERE id = :id"), {"id": entry})
    assert outcome == "allowed"
