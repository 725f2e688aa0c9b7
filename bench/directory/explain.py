"""PostgreSQL's side of each directory search, load-independent where it can be: the statement the app
sends for each of ``bench.directory.run``'s 48 searches (recorded in process, the answer cache off),
run under ``EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)`` with the generic plan (what asyncpg's prepared
statements settle on after five executions), ``--repeats`` times each: median execution ms and
shared buffers touched per search (buffers do not depend on the machine's load; milliseconds do), and
the median of each search's fastest execution (on a shared machine the least disturbed of its runs:
steadier than the median under load, still not load-free).

    .venv/bin/python -m bench.directory.explain              # 48 searches x 5
    .venv/bin/python -m bench.directory.explain --plan 0     # also print the first search's plan
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from typing import Any

import asyncpg

from bench.casefile.fixtures import app_env
from bench.directory.run import DATA_DIR, _capture, _load_demo, _prepare, load_average, log


async def _prepared(conn: asyncpg.Connection, query: str, args: tuple[Any, ...]) -> str:
    """``query`` as the server-side prepared statement ``searched`` (its parameters typed as the server
    infers them), and the EXECUTE of it with ``args`` as literals: an unnamed statement would get a
    custom plan for its values, the app's prepared statements run the generic one."""
    types = [t.name for t in (await conn.prepare(query)).get_parameters()]
    await conn.execute(f"PREPARE searched({', '.join(types)}) AS {query}")
    literals = [
        f"{await conn.fetchval(f'SELECT quote_nullable($1::{kind})', arg)}::{kind}"
        for kind, arg in zip(types, args, strict=True)
    ]
    return f"EXECUTE searched({', '.join(literals)})"


def _buffers(plan: dict[str, Any]) -> int:
    return int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))


async def _explain(
    dsn: str, script: dict[str, Any], repeats: int, show: int | None
) -> tuple[float, float, float]:
    """Median execution ms and median shared buffers per search over every search and repeat, and the
    median over the searches of each one's fastest execution ms."""
    conn = await asyncpg.connect(dsn)
    ms: list[float] = []
    fastest: list[float] = []
    buffers: list[float] = []
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        for n, calls in enumerate(script.values()):
            for query, args in calls:
                execute = await _prepared(conn, query, args)
                runs = len(ms)
                for _ in range(repeats):
                    explained = await conn.fetchval(
                        "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) " + execute
                    )
                    [result] = json.loads(explained)
                    ms.append(float(result["Execution Time"]))
                    buffers.append(_buffers(result["Plan"]))
                fastest.append(min(ms[runs:]))
                if show == n:
                    text = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + execute)
                    print(query, "\n", "\n".join(r[0] for r in text))
                await conn.execute("DEALLOCATE searched")
    finally:
        await conn.close()
    return statistics.median(ms), statistics.median(buffers), statistics.median(fastest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--plan", type=int, default=None, help="print this search's plan (0-47)")
    args = parser.parse_args()

    from app.embedded import start_embedded_postgres

    _load_demo()
    url, pg = start_embedded_postgres(DATA_DIR)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        paths, _ = asyncio.run(_prepare(url, dsn))
        env = {**app_env(DATA_DIR, url), "WIJKWERK_DIRECTORY_ANSWER_CACHE_ENTRIES": "0"}
        script, _ = asyncio.run(_capture(env, paths))
        before = load_average()
        ms, buffers, fastest = asyncio.run(_explain(dsn, script, args.repeats, args.plan))
        after = load_average()
    finally:
        pg.cleanup()
    log(f"statements per search: {sorted({len(c) for c in script.values()})}")
    print(
        f"{len(script)} searches x {args.repeats}: median execution {ms:.2f} ms (fastest run per search: "
        f"median {fastest:.2f} ms), median shared buffers {buffers:.0f} per search; "
        f"load (1 min) before {before:.2f}, after {after:.2f}"
    )


if __name__ == "__main__":
    main()
