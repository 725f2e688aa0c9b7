"""The worker's worklist page is planned once per connection, without the worker's values
(``RawStatement.generic``): that plan must still read the worker's households and their facts by
index, however many households PostgreSQL guesses a worker has (as a join, ``IN``, the guess could
make it read every household)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from app.domain.readmodel.worklist import View, page_statement
from tests.factories import World


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


INDEXED = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


async def generic_plan(world: World, view: View) -> list[dict[str, Any]]:
    """The nodes of ``view``'s page plan as a connection of the raw pool keeps it: prepared, under
    ``force_generic_plan`` (EXPLAIN of the prepared statement shows the plan it runs; the values,
    all NULL, are not used: nothing is executed and the plan is made without them)."""
    statement = page_statement(view, after=False)
    async with world.app.state.db.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        async with driver.transaction():
            await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await driver.execute(f"PREPARE worklist_page AS {statement.sql}")
            values = ", ".join("NULL" for _ in statement.names)
            explained = await driver.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE worklist_page ({values})")
            await driver.execute("DEALLOCATE worklist_page")
    # The engine's connections decode JSON themselves; a plain asyncpg connection hands back text.
    plans = json.loads(explained) if isinstance(explained, str) else explained
    return list(_nodes(plans[0]["Plan"]))


async def test_the_workers_page_reads_households_by_index_only_in_its_generic_plan(world: World) -> None:
    nodes = await generic_plan(world, View.mine)
    households = [n for n in nodes if n.get("Relation Name") == "households"]
    # Each read of households goes through an index (the coordinator's, the primary key or the
    # team's, bounded by the worker's households or team(s)): none reads them all.
    assert households and all(n["Node Type"] in INDEXED for n in households), households
    facts = [n for n in nodes if n.get("Relation Name") == "worklist_facts"]
    assert facts and all(n["Node Type"] in INDEXED for n in facts), facts
