"""A raw statement may ask to be planned once per connection (``RawStatement.generic``): the raw pool
runs it under ``plan_cache_mode = force_generic_plan`` and every other statement under the default,
whatever ran on the connection before. The worklist's page statements ask for it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from app.db import Database, RawStatement
from app.domain.readmodel.worklist import View, page_statement
from app.settings import DatabasePooler, Settings
from tests.factories import World

MODE = "SELECT current_setting('plan_cache_mode') AS mode, pg_backend_pid() AS pid, CAST(:n AS int) AS n"
GENERIC = RawStatement.of(sa.text(MODE), generic=True)
DEFAULT = RawStatement.of(sa.text(MODE + " , 1 AS other"))
AUTO, FORCED = "auto", "force_generic_plan"
SETTING = re.compile(r"\s*(RE)?SET\b", re.IGNORECASE)


async def test_a_generic_statement_runs_with_generic_plans_and_others_with_the_default(world: World) -> None:
    db = world.app.state.db
    seen, pids = [], set()
    for statement in (DEFAULT, GENERIC, GENERIC, DEFAULT, GENERIC, DEFAULT):
        for row in (await db.fetch_one(statement, {"n": 1}), (await db.fetch_all(statement, {"n": 2}))[0]):
            seen.append(row["mode"])
            pids.add(row["pid"])
    # One connection throughout (the pool hands back the last one): each switch was made on it.
    assert len(pids) == 1
    assert seen == [AUTO, AUTO, FORCED, FORCED, FORCED, FORCED, AUTO, AUTO, FORCED, FORCED, AUTO, AUTO]


async def test_a_generic_statement_cancelled_as_its_set_returns_leaves_no_connection_generic_unknown(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = world.app.state.db
    await db.fetch_one(DEFAULT, {"n": 0})
    execute = asyncpg.Connection.execute
    cancelled_on: list[int] = []

    async def cancelled_once_set(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        result = await execute(self, query, *args, **kwargs)
        if query.startswith("SET plan_cache_mode"):
            # The server applied the SET; the task is cancelled before the code after it runs (as a
            # request cancelled while the SET's answer is on its way).
            cancelled_on.append(self.get_server_pid())
            raise asyncio.CancelledError
        return result

    monkeypatch.setattr(asyncpg.Connection, "execute", cancelled_once_set)
    with pytest.raises(asyncio.CancelledError):
        await db.fetch_one(GENERIC, {"n": 1})
    monkeypatch.undo()
    row = await db.fetch_one(DEFAULT, {"n": 2})
    assert cancelled_on == [row["pid"]]  # the same connection, now asked for the default
    assert row["mode"] == AUTO


async def test_a_new_connection_under_a_reused_process_id_is_at_the_default(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = world.app.state.db
    # Every connection reports the same server process id, as a new backend that reuses the id of
    # one the pool closed (a generic one here) would.
    monkeypatch.setattr(asyncpg.Connection, "get_server_pid", lambda self: 4242)
    assert (await db.fetch_one(GENERIC, {"n": 1}))["mode"] == FORCED
    await (db._statements or await db._open_statements()).expire_connections()
    # The pool makes a new connection (at the default): known as new, it is set for the statement.
    assert (await db.fetch_one(GENERIC, {"n": 2}))["mode"] == FORCED
    # No connection known by the made-up id outlives the test (the app's pool is the session's).
    await (db._statements or await db._open_statements()).expire_connections()
    await db.fetch_one(DEFAULT, {"n": 3})
    monkeypatch.undo()
    assert (await db.fetch_one(DEFAULT, {"n": 4}))["mode"] == AUTO


async def test_the_process_ids_known_as_generic_are_of_open_connections_only(
    migrated: str, settings: Settings
) -> None:
    db = Database(migrated, settings)
    try:
        first = (await db.fetch_one(GENERIC, {"n": 1}))["pid"]
        assert db._generic == {first}
        statements = db._statements or await db._open_statements()
        await statements.expire_connections()
        second = (await db.fetch_one(DEFAULT, {"n": 2}))["pid"]
        await asyncio.sleep(0)  # the closed connection's listeners run on the loop's next turn
        assert second != first and db._generic == set()
        await db.fetch_one(GENERIC, {"n": 3})
    finally:
        await db.dispose()
    assert db._generic == set()


async def test_behind_a_pooler_in_transaction_mode_no_session_setting_is_sent(
    migrated: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A session-level SET would stay on the server connection for the pooler's next client. The app's
    # database is reached directly here: what is checked is what the app sends, not what PgBouncer does.
    pooled = settings.model_copy(update={"database_pooler": DatabasePooler.transaction})
    db = Database(migrated, pooled)
    execute = asyncpg.Connection.execute
    sent: list[str] = []

    async def recorded(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "execute", recorded)
    try:
        modes = [(await db.fetch_one(s, {"n": 1}))["mode"] for s in (GENERIC, DEFAULT, GENERIC)]
    finally:
        await db.dispose()
    assert sent and [query for query in sent if SETTING.match(query)] == []
    assert modes == [AUTO, AUTO, AUTO]


async def test_a_generic_statement_keeps_one_plan_on_its_connection(world: World) -> None:
    db = world.app.state.db
    counted = RawStatement.of(
        sa.text(
            "SELECT generic_plans, custom_plans, pg_backend_pid() AS pid, CAST(:n AS int) AS n"
            " FROM pg_prepared_statements WHERE statement LIKE '%generic_plans, custom_plans%'"
        ),
        generic=True,
    )
    rows = [await db.fetch_one(counted, {"n": n}) for n in range(3)]
    assert len({row["pid"] for row in rows}) == 1  # the counts are of one connection's statement
    # PostgreSQL counts the plans of the statement itself: one generic plan, reused, no custom one.
    row = rows[-1]
    assert row is not None and row["custom_plans"] == 0 and row["generic_plans"] >= 1


def test_the_worklist_pages_are_planned_once_per_connection() -> None:
    assert all(page_statement(view, after).generic for view in View for after in (False, True))
