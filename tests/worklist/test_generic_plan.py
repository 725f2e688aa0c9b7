"""A raw statement may ask to be planned once per connection (``RawStatement.generic``): the raw pool
runs it under ``plan_cache_mode = force_generic_plan`` and every other statement under the default,
whatever ran on the connection before. The worklist's page statements ask for it."""

from __future__ import annotations

import sqlalchemy as sa

from app.db import RawStatement
from app.domain.readmodel.worklist import View, page_statement
from tests.factories import World

MODE = "SELECT current_setting('plan_cache_mode') AS mode, CAST(:n AS int) AS n"


async def test_a_generic_statement_runs_with_generic_plans_and_others_with_the_default(world: World) -> None:
    db = world.app.state.db
    generic = RawStatement.of(sa.text(MODE), generic=True)
    default = RawStatement.of(sa.text(MODE + " , 1 AS other"))
    seen = []
    for statement in (default, generic, generic, default, generic, default):
        seen.append((await db.fetch_one(statement, {"n": 1}))["mode"])
        seen.append((await db.fetch_all(statement, {"n": 2}))[0]["mode"])
    auto, forced = "auto", "force_generic_plan"
    assert seen == [auto, auto, forced, forced, forced, forced, auto, auto, forced, forced, auto, auto]


async def test_a_generic_statement_keeps_one_plan_on_its_connection(world: World) -> None:
    db = world.app.state.db
    counted = RawStatement.of(
        sa.text(
            "SELECT generic_plans, custom_plans, CAST(:n AS int) AS n FROM pg_prepared_statements"
            " WHERE statement LIKE '%generic_plans, custom_plans%'"
        ),
        generic=True,
    )
    for n in range(3):
        row = await db.fetch_one(counted, {"n": n})
    # PostgreSQL counts the plans of the statement itself: one generic plan, reused, no custom one.
    assert row is not None and row["custom_plans"] == 0 and row["generic_plans"] >= 1


def test_the_worklist_pages_are_planned_once_per_connection() -> None:
    assert all(page_statement(view, after).generic for view in View for after in (False, True))
