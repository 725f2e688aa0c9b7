"""The compiled read path's statements for the benchmark's two queries, with PostgreSQL's plan.

    .venv/bin/python -m bench.graphql.explain [--only list] [--sql] [--runs 500]

Plans each query as the served schema does (``app.graphql.compiled.Plan``), for an anonymous
caller, and prints ``EXPLAIN (ANALYZE, BUFFERS)`` of each root field's statement on the benchmark
data (the statement with its values written in, so the plan is that of its custom plan). Then runs
each statement ``--runs`` times as one prepared statement and reports the CPU its PostgreSQL backend
spent per run (``/proc`` of the backend: load-independent, unlike its wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import asyncpg

from app.domain.initiatives.access import ANONYMOUS
from app.graphql.compiled import Plan, mirror_of
from app.graphql.schema import build_schema
from bench.graphql import cpu, data, run
from graphql import parse


def statements(name: str) -> list[tuple[str, tuple[Any, ...]]]:
    """The compiled statements of the query as they run: the raw SQL and its arguments."""
    body = json.loads(run.wijkwerk_bodies()[name])
    mirror = mirror_of(build_schema(run.production_settings("postgresql+asyncpg://bench/bench")))
    plan = Plan.of(mirror, parse(body["query"]), None, body.get("variables"))
    return [(p.statement.sql, p.statement.args(p.values)) for p in plan.statements(ANONYMOUS)]


async def backend_cpu_ms(connection: asyncpg.Connection, sql: str, args: tuple[Any, ...], runs: int) -> float:
    """CPU ms of the connection's backend per run of ``sql`` (prepared once, run ``runs`` times)."""
    backend = await connection.fetchval("SELECT pg_backend_pid()")
    prepared = await connection.prepare(sql)
    start = cpu.tree_seconds(backend)
    for _ in range(runs):
        await prepared.fetchval(*args)
    return 1000 * (cpu.tree_seconds(backend) - start) / runs


async def explain(dsn: str, names: list[str], show_sql: bool, runs: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for name in names:
            for sql, args in statements(name):
                if show_sql:
                    print(f"-- {name}\n{sql}\n-- {args}\n")
                await connection.fetch(sql, *args)  # warm the buffers as a busy server has them
                rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
                print(f"== {name}")
                print("\n".join(row[0] for row in rows), flush=True)
                spent = await backend_cpu_ms(connection, sql, args, runs)
                print(f"== {name}: {spent:.3f} ms PostgreSQL CPU per run")
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", default=["list", "dashboard"], choices=["dashboard", "list"])
    parser.add_argument("--sql", action="store_true", help="print each statement too")
    parser.add_argument("--runs", type=int, default=500, help="runs for the CPU per statement")
    options = parser.parse_args()
    db = data.start()
    asyncio.run(data.prepare(db))
    asyncio.run(explain(db.dsn, options.only, options.sql, options.runs))


if __name__ == "__main__":
    main()
