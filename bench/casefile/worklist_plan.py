"""PostgreSQL's time for the worklist's page statement, by ``EXPLAIN (ANALYZE, BUFFERS)`` on the
benchmark data (the statement the route and the floor send, ``worklist.page_statement``, first page,
default thresholds), for the worker of 60 households and the lead of the 12-worker team::

    .venv/bin/python -m bench.casefile.worklist_plan [--runs 9] [--plan] [--timed 200]

Each run is rolled back (the statement writes access-log rows). Prints the median and the spread of
the execution times per caller (without the per-node clock: ``TIMING OFF``) and the buffers read;
``--plan`` prints the last plan of each, to see what every arm costs; each run also prints the median
time of each part (``scope``, ``page``: the items, ``logged``: the access-log insert), measured with the
per-node clock in a third EXPLAIN; ``--caseload`` also EXPLAINs the
lead's caseload statement (``caseload.caseload_statement``, which reads the stored tiers too).
``--timed N`` also sends the statement N times without EXPLAIN (whose per-node clock inflates plans of
many small nodes) and prints the median and fastest round trip on one connection (PostgreSQL's time
plus the wire), under the plan cache mode the statement asks the app's raw pool for
(``RawStatement.generic``: planned once per connection), or with ``--auto`` under PostgreSQL's default
(a custom plan each time, which may turn generic after five runs), to compare the two.
The worklist team is made by ``bench.casefile.fixtures.prepare`` (run the benchmark once first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from app.db import RawStatement
from app.domain.assessments.rules import local_today
from app.domain.readmodel.caseload import caseload_statement
from app.domain.readmodel.worklist import View, WorklistPolicy, page_statement
from app.domain.unit_of_work.access_log import ENTRY_COLUMNS
from bench.casefile import fixtures

CALLERS = {View.mine: fixtures.WORKLIST_USER.format(1), View.team: fixtures.WORKLIST_LEAD}
LIMIT = 100


def _values(view: View, worker_id: uuid.UUID) -> dict[str, Any]:
    entry = {name: None for name in ENTRY_COLUMNS} | {
        "id": uuid.uuid4(),
        "request_id": uuid.uuid4().hex,
        "actor_subject": "plan",
        "actor_role": "team_lead" if view is View.team else "generalist",
        "actor_worker_id": worker_id,
        "client_id": "mobile_app",
        "purpose": "casework",
        "resource": "worklist",
        "action": "list",
        "outcome": "allowed",
    }
    values = {f"log_{name}": value for name, value in entry.items()}
    values |= WorklistPolicy().values() | {
        "today": local_today(datetime.now(UTC)),
        "worker_id": worker_id,
        "kind": None,
        "overdue_only": False,
        "limit": LIMIT,
    }
    if view is View.team:
        values |= {"team_id": None, "coordinator_id": None, "unassigned": False}
    return values


def _parts(plan: dict[str, Any]) -> dict[str, float]:
    """The time of each CTE of a plan (with the per-node clock), ms: where the statement's time goes
    (``scope``: the households in view; ``page``: their items, sorted; ``logged``: the access-log rows)."""
    parts: dict[str, float] = {}
    for node in plan.get("Plans", []):
        name = node.get("Subplan Name", "")
        if name.startswith("CTE "):
            parts[name.removeprefix("CTE ")] = node["Actual Total Time"]
    return parts


async def _explain(
    connection: Any, view: View, worker_id: uuid.UUID, statement: RawStatement | None = None
) -> tuple[float, int, str, dict[str, float]]:
    statement = statement or page_statement(view, after=False)
    transaction = connection.transaction()
    await transaction.start()
    try:
        found = await connection.fetchval(
            "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) " + statement.sql,
            *statement.args(_values(view, worker_id)),
        )
        text = await connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, *statement.args(_values(view, worker_id))
        )
        timed = await connection.fetchval(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement.sql, *statement.args(_values(view, worker_id))
        )
    finally:
        await transaction.rollback()
    plan = json.loads(found) if isinstance(found, str) else found
    timed = json.loads(timed) if isinstance(timed, str) else timed
    return (
        plan[0]["Execution Time"],
        plan[0]["Plan"]["Shared Hit Blocks"],
        "\n".join(r[0] for r in text),
        _parts(timed[0]["Plan"]),
    )


async def _timed(connection: Any, view: View, worker_id: uuid.UUID, runs: int, auto: bool) -> list[float]:
    """The time of each of ``runs`` statements sent as the route sends them (each rolled back), ms."""
    statement = page_statement(view, after=False)
    generic = statement.generic and not auto
    await connection.execute(f"SET plan_cache_mode = {'force_generic_plan' if generic else 'auto'}")
    times = []
    for _ in range(runs):
        arguments = statement.args(_values(view, worker_id))
        transaction = connection.transaction()
        await transaction.start()
        started = time.perf_counter()
        await connection.fetchrow(statement.sql, *arguments)
        times.append((time.perf_counter() - started) * 1000)
        await transaction.rollback()
    return times


async def main(args: argparse.Namespace) -> None:
    url, _server = fixtures.database(args.data_dir)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for view, username in CALLERS.items():
            worker_id = await connection.fetchval("SELECT worker_id FROM users WHERE username = $1", username)
            if worker_id is None:
                raise SystemExit(f"No {username}: run the benchmark once to make the worklist team.")
            times, plan, buffers, parts = [], "", 0, []
            for _ in range(args.runs):
                elapsed, buffers, plan, each = await _explain(connection, view, worker_id)
                times.append(elapsed)
                parts.append(each)
            print(
                f"{view.value}: median {statistics.median(times):.1f} ms "
                f"(min {min(times):.1f}, max {max(times):.1f}, {args.runs} runs), {buffers} buffers hit"
            )
            medians = {name: statistics.median(p[name] for p in parts) for name in parts[0]}
            print(
                f"{view.value}: per part (median, per-node clock on): "
                + ", ".join(f"{name} {ms:.2f} ms" for name, ms in medians.items())
            )
            if args.plan:
                print(plan)
            if args.timed:
                sent = await _timed(connection, view, worker_id, args.timed, args.auto)
                mode = "auto" if args.auto else "as the app"
                print(
                    f"{view.value}: sent {args.timed} times ({mode}), "
                    f"median {statistics.median(sent):.2f} ms, fastest {min(sent):.2f} ms"
                )
        if args.caseload:
            await _caseload(connection, args.runs)
    finally:
        await connection.close()


async def _caseload(connection: Any, runs: int) -> None:
    """The lead's caseload statement (``caseload.caseload_statement``, every team in view), EXPLAINed."""
    lead = await connection.fetchval("SELECT worker_id FROM users WHERE username = $1", CALLERS[View.team])
    times, buffers = [], 0
    for _ in range(runs):
        elapsed, buffers, _plan, _parts = await _explain(connection, View.team, lead, caseload_statement())
        times.append(elapsed)
    print(f"caseload: median {statistics.median(times):.1f} ms (min {min(times):.1f}), {buffers} buffers hit")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--plan", action="store_true")
    parser.add_argument("--timed", type=int, default=0)
    parser.add_argument("--caseload", action="store_true")
    parser.add_argument("--auto", action="store_true", help="--timed under the default plan cache mode")
    parser.add_argument("--data-dir", type=Path, default=fixtures.DATA_DIR)
    asyncio.run(main(parser.parse_args()))
