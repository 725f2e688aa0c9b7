"""The third workload: the dashboard as an anonymous persisted GET with caching on (issue 18).

    .venv/bin/python -m bench.graphql.cached [--seconds 10] [--repeats 3] [--connections 16]

16 clients ask the dashboard of the busy buurt over and over; before 5% of their requests a client
first changes the title of one of the buurt's initiatives straight in PostgreSQL (as another process
of the service would) and then requires that very answer to carry the new title: every answer after
a write must be fresh. The same workload, in the same run and rotating rounds, against:

* ``wijkwerk cached``: Wijkwerk with production settings and persisted queries only, the dashboard
  sent by GET with its hash (``app/graphql/persisted/neighbourhood_dashboard.graphql``), answered
  from the server's copy while the public data is unchanged;
* ``wijkwerk POST``: the same server, the same document by POST (computed every time);
* ``postgraphile``: PostGraphile v5 (``bench.graphql.run``'s setup), by POST;
* ``floor``: the hand-written one-statement dashboard.

The load comes from one Python process (httpx, asyncio), not wrk: wrk cannot write and then check
the next answer. Its CPU competes with the servers' on this 2-core machine, alike for all stacks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from app.graphql.persisted import sha256
from bench.graphql import cpu, data, queries
from bench.graphql.run import JSON, postgraphile, production_env
from bench.harness import server

WRITE_SHARE = 0.05


@dataclass
class Stack:
    name: str
    method: str
    url: str
    body: bytes | None = None


@dataclass
class Outcome:
    requests: int = 0
    writes: int = 0
    stale: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)


def dashboard_stacks(bases: dict[str, str]) -> list[Stack]:
    document = queries.WIJKWERK_DASHBOARD + "\n"  # the persisted file's exact text
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}
    get = httpx.URL(
        bases["wijkwerk"] + "/graphql",
        params={"variables": json.dumps({"code": data.BIG_BUURT}), "extensions": json.dumps(persisted)},
    )
    post = queries.body(document, code=data.BIG_BUURT).encode()  # persisted only: the exact text
    peer = queries.body(queries.POSTGRAPHILE_DASHBOARD, code=data.BIG_BUURT).encode()
    return [
        Stack("wijkwerk cached", "GET", str(get)),
        Stack("wijkwerk POST", "POST", bases["wijkwerk"] + "/graphql", post),
        Stack("postgraphile", "POST", bases["postgraphile"] + "/graphql", peer),
        Stack("floor", "POST", f"{bases['floor']}/dashboard/{data.BIG_BUURT}", b"{}"),
    ]


def titles(answer: Any) -> dict[str, str]:
    """Initiative id -> title, from any stack's dashboard answer."""
    payload = answer.get("data", answer)
    if "areaByCode" in payload:
        nodes = payload["areaByCode"]["initiativesByBuurtId"]["nodes"]
        return {n["rowId"]: n["title"] for n in nodes}
    return {i["id"]: i["title"] for i in payload["neighbourhood"]["initiatives"]}


async def client(
    stack: Stack, http: httpx.AsyncClient, pool: asyncpg.Pool, ids: list[str], deadline: float, found: Outcome
) -> None:
    rng = random.Random()
    while time.monotonic() < deadline:
        changed = None
        if rng.random() < WRITE_SHARE:
            changed = (rng.choice(ids), f"Bench write {rng.getrandbits(48):x}")
            await pool.execute("UPDATE initiatives SET title = $2 WHERE id = $1", *changed)
            found.writes += 1
        started = time.monotonic()
        response = await http.request(stack.method, stack.url, content=stack.body, headers=JSON)
        found.latencies.append(time.monotonic() - started)
        found.requests += 1
        # Parsed only after a write: parsing ~90 kB per answer would load the client more than the
        # cached server. A key "errors" cannot hide inside a string value (its quotes would be escaped).
        if response.status_code != 200 or b'"errors":' in response.content:
            found.failed += 1
        elif changed is not None and titles(response.json()).get(changed[0]) != changed[1]:
            found.stale += 1


async def timed_run(
    stack: Stack, pool: asyncpg.Pool, ids: list[str], seconds: float, connections: int
) -> Outcome:
    found = Outcome()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        deadline = time.monotonic() + seconds
        # Each client writes its own initiatives: a later write by another client to the same one
        # would look like a stale answer.
        await asyncio.gather(
            *(client(stack, http, pool, ids[n::connections], deadline, found) for n in range(connections))
        )
    return found


async def measure(bases: dict[str, str], dsn: str, options: argparse.Namespace) -> list[dict[str, Any]]:
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=options.connections)
    postgres = cpu.postgres_pid(data.DATA_DIR)
    try:
        ids = [
            str(r["id"])
            for r in await pool.fetch(
                "SELECT i.id FROM initiatives i JOIN areas a ON a.id = i.buurt_id "
                "WHERE a.code = $1 AND i.status <> 'idea' ORDER BY i.created_at DESC, i.id DESC LIMIT 200",
                data.BIG_BUURT,
            )
        ]
        stacks = dashboard_stacks(bases)
        runs: dict[str, list[tuple[Outcome, float, float]]] = {s.name: [] for s in stacks}
        for stack in stacks:  # warm-up, and a check that each answers the dashboard
            await timed_run(stack, pool, ids, options.warmup, options.connections)
        for repeat in range(options.repeats):
            for stack in stacks:
                base = bases[stack.name.split()[0]]
                app = cpu.server_pid(base)
                before = cpu.tree_seconds(app), cpu.tree_seconds(postgres)
                found = await timed_run(stack, pool, ids, options.seconds, options.connections)
                spent = cpu.tree_seconds(app) - before[0], cpu.tree_seconds(postgres) - before[1]
                per = max(found.requests, 1)
                runs[stack.name].append((found, 1000 * spent[0] / per, 1000 * spent[1] / per))
                print(
                    f"run {repeat + 1}: {stack.name}: {found.requests / options.seconds:.1f} rps, "
                    f"{found.writes} writes, {found.stale} stale, {found.failed} failed",
                    flush=True,
                )
    finally:
        await pool.close()
    return [_row(name, found, options.seconds) for name, found in runs.items()]


def _row(name: str, runs: list[tuple[Outcome, float, float]], seconds: float) -> dict[str, Any]:
    rps = [o.requests / seconds for o, _, _ in runs]
    latencies = sorted(t for o, _, _ in runs for t in o.latencies)
    return {
        "stack": name,
        "rps_median": round(statistics.median(rps), 1),
        "spread": round((max(rps) - min(rps)) / statistics.median(rps), 2),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
        "writes": sum(o.writes for o, _, _ in runs),
        "stale_after_write": sum(o.stale for o, _, _ in runs),
        "failed": sum(o.failed for o, _, _ in runs),
        "cpu_ms_server": round(statistics.median(s for _, s, _ in runs), 2),
        "cpu_ms_postgres": round(statistics.median(p for _, _, p in runs), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    options = parser.parse_args()
    db = data.start()
    asyncio.run(data.prepare(db))
    env = {**production_env(db.url), "WIJKWERK_GRAPHQL_PERSISTED_ONLY": "true"}
    with ExitStack() as servers:
        bases = {
            "wijkwerk": servers.enter_context(server("app.asgi:create", env, factory=True)),
            "floor": servers.enter_context(server("bench.graphql.floor:app", {"FLOOR_DSN": db.dsn})),
            "postgraphile": servers.enter_context(postgraphile(db.dsn)),
        }
        table = asyncio.run(measure(bases, db.dsn, options))
    print(
        "| stack | rps | spread | p50 ms | p99 ms | writes | stale after a write | failed "
        "| CPU ms server | CPU ms PostgreSQL |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(str(v) for v in row.values()) + " |")


if __name__ == "__main__":
    main()
