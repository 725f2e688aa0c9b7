"""Benchmark of the GraphQL dashboard queries: Wijkwerk against the floor and PostGraphile v5, in one run.

    .venv/bin/python -m bench.graphql.run [--seconds 10] [--repeats 3] [--connections 16]

1. Starts the benchmark database (bench.graphql.data: own embedded PostgreSQL, migrated, generated).
2. In process: answers both queries once through Wijkwerk (production settings), the floor and
   PostGraphile, checks the three answers carry the same data, and counts SQL statements per request.
3. Under load: the three servers on loopback (uvicorn, one worker; PostGraphile on Node 22), wrk
   with 16 connections against one server at a time: a warm-up each, then 3 rounds of timed runs
   rotating over the stacks (so a change in the machine's load hits them alike); median and
   spread, p50/p99.
Results go to bench/results/graphql.json and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from app.main import create_app
from app.settings import Environment, Settings
from bench.casefile.counting import recording
from bench.graphql import cpu, data, floor, queries
from bench.harness import (
    Measurement,
    RunResult,
    Scenario,
    _wait_ready,
    free_port,
    report,
    run_wrk,
    server,
)

HERE = Path(__file__).resolve().parent
RESULTS = data.ROOT / "bench" / "results" / "graphql.json"
NODE = HERE / "node_modules" / ".bin" / "node"
JSON = {"Content-Type": "application/json"}
SECRETS = {name: secrets.token_urlsafe(32) for name in ("secret_key", "bsn_encryption_key", "bsn_index_key")}


STACKS = ["floor", "wijkwerk", "wijkwerk+proposals", "postgraphile"]


def production_env(url: str) -> dict[str, str]:
    """Wijkwerk with production settings: limits, masked errors, no introspection, no IDE."""
    return {
        "WIJKWERK_ENVIRONMENT": "production",
        "DATABASE_URL": url,
        "WIJKWERK_ISSUER": "https://wijkwerk.bench.invalid",
        "WIJKWERK_DATA_DIR": str(data.DATA_DIR / "app"),
        "WIJKWERK_LOG_LEVEL": "WARNING",
        **{f"WIJKWERK_{name.upper()}": value for name, value in SECRETS.items()},
    }


def production_settings(url: str) -> Settings:
    return Settings(
        environment=Environment.production,
        database_url=url,
        issuer="https://wijkwerk.bench.invalid",
        data_dir=data.DATA_DIR / "app",
        log_level="WARNING",
        **SECRETS,  # type: ignore[arg-type]
    )


def as_role(dsn: str, role: str) -> str:
    """``dsn`` logging in as ``role`` (the embedded server trusts local socket connections)."""
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


@contextmanager
def postgraphile(dsn: str) -> Iterator[str]:
    if not NODE.exists():
        raise SystemExit("PostGraphile is missing: (cd bench/graphql && npm install)")
    port = free_port()
    env = {**os.environ, "PG_URL": as_role(dsn, "bench_anon"), "PORT": str(port), "NODE_ENV": "production"}
    process = subprocess.Popen([str(NODE), str(HERE / "postgraphile.mjs")], cwd=HERE, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, timeout=120)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


# -- answers and SQL counts (in process) ----------------------------------------------------------


# Transaction control and pool pings are not statements here (as for PostGraphile).
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", ";", "SELECT 1", "SET ")


def counted(calls: list[Any]) -> int:
    """The statements among what asyncpg sent (``bench.casefile.counting.recording``: SQLAlchemy's
    and the hot reads' own pool alike; the compiled reads run on the latter)."""
    return sum(1 for sql, _ in calls if not sql.strip().upper().startswith(_CONTROL))


async def wijkwerk_answers(url: str) -> dict[str, tuple[Any, int]]:
    """Each query's answer and SQL statements, through the real app with production settings."""
    app = create_app(production_settings(url))
    found: dict[str, tuple[Any, int]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, body in wijkwerk_bodies().items():
                await client.post("/graphql", content=body, headers=JSON)  # warm: caches, pool
                with recording() as calls:
                    response = await client.post("/graphql", content=body, headers=JSON)
                found[name] = (response.json(), counted(calls))
    return found


async def floor_answers(dsn: str) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1, init=floor.setup)
    try:
        return {
            "dashboard": json.loads(await floor.dashboard_json(pool, data.BIG_BUURT)),
            "list": json.loads(await floor.list_json(pool)),
        }
    finally:
        await pool.close()


def postgraphile_answers(base: str) -> dict[str, tuple[Any, int]]:
    found = {}
    for name, body in postgraphile_bodies().items():
        httpx.post(base + "/graphql", content=body, headers=JSON, timeout=30)  # warm
        before = int(httpx.get(base + "/sqlcount").text)
        answer = httpx.post(base + "/graphql", content=body, headers=JSON, timeout=30).json()
        found[name] = (answer, int(httpx.get(base + "/sqlcount").text) - before)
    return found


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def from_postgraphile(name: str, answer: dict[str, Any]) -> dict[str, Any]:
    """PostGraphile's answer in Wijkwerk's shape, to compare the data."""

    def initiative(node: dict[str, Any]) -> dict[str, Any]:
        grant = node["initiativeGrantByInitiativeId"]
        item = {
            "id": node["rowId"],
            "title": node["title"],
            "status": node["status"].upper(),
            "requestedAmountCents": _int(node["requestedCents"]),
            "grantedAmountCents": _int(node["grantedCents"]),
            "startsOn": node["startsOn"],
            "endsOn": node["endsOn"],
            "themes": node["themeList"]["nodes"],
            "grant": grant
            and {**grant, "decision": grant["decision"].upper(), "amountCents": _int(grant["amountCents"])},
        }
        if "residentNetworkByNetworkId" in node:
            network = node["residentNetworkByNetworkId"]
            item["network"] = {"id": network["rowId"], "name": network["name"]}
        if "summary" in node:
            item["summary"] = node["summary"]
            item["neighbourhood"] = node["areaByBuurtId"]
        return item

    found = answer["data"]
    if name == "dashboard":
        area = found["areaByCode"]
        nodes = area["initiativesByBuurtId"]["nodes"]
        return {
            "neighbourhood": {
                "code": area["code"],
                "name": area["name"],
                "initiatives": [initiative(n) for n in nodes],
            }
        }
    page = found["allInitiatives"]
    return {"initiatives": {"pageInfo": page["pageInfo"], "nodes": [initiative(n) for n in page["nodes"]]}}


def _int(value: Any) -> Any:
    return None if value is None else int(value)  # BigInt arrives as a string


def _normalised(value: Any) -> Any:
    """Timestamps compared as instants (the stacks format offsets differently)."""
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, str) and len(value) > 19 and value[10] == "T":
        return _moment(value)
    return value


def check_same(name: str, wijkwerk: Any, floor_answer: Any, peer: Any) -> int:
    """Fail loudly unless the three answers carry the same data; returns the number of items."""
    assert "errors" not in wijkwerk, wijkwerk
    assert _normalised(wijkwerk) == _normalised(floor_answer), f"{name}: the floor answers differently"
    assert _normalised(wijkwerk["data"]) == _normalised(peer), f"{name}: PostGraphile answers differently"
    payload = wijkwerk["data"]
    items = (
        payload["neighbourhood"]["initiatives"] if name == "dashboard" else payload["initiatives"]["nodes"]
    )
    return len(items)


# -- load -----------------------------------------------------------------------------------------


def wijkwerk_bodies() -> dict[str, str]:
    return {
        "dashboard": queries.body(queries.WIJKWERK_DASHBOARD, code=data.BIG_BUURT),
        "list": queries.body(queries.WIJKWERK_LIST),
    }


def postgraphile_bodies() -> dict[str, str]:
    return {
        "dashboard": queries.body(queries.POSTGRAPHILE_DASHBOARD, code=data.BIG_BUURT),
        "list": queries.body(queries.POSTGRAPHILE_LIST),
    }


def scenarios(stack: str) -> dict[str, Scenario]:
    if stack == "floor":
        paths = {"dashboard": f"/dashboard/{data.BIG_BUURT}", "list": "/list"}
        return {n: Scenario(f"{n} floor", [p], "POST", JSON, "{}") for n, p in paths.items()}
    bodies = postgraphile_bodies() if stack == "postgraphile" else wijkwerk_bodies()
    return {n: Scenario(f"{n} {stack}", ["/graphql"], "POST", JSON, b) for n, b in bodies.items()}


def _answers(base: str, scenario: Scenario) -> None:
    """One request before the load: a server that answers with errors must not be measured."""
    response = httpx.request(
        scenario.method, base + scenario.paths[0], content=scenario.body, headers=scenario.headers, timeout=30
    )
    assert response.status_code == 200 and "errors" not in response.json(), response.text[:500]


def load(db: data.BenchDatabase, options: argparse.Namespace) -> dict[tuple[str, str], Measurement]:
    """All servers up at once (idle ones cost nothing); the timed runs rotate over the stacks, so a
    change in the machine's load during the run hits every stack alike and the ratios stay fair."""
    starters = {
        "floor": lambda: server("bench.graphql.floor:app", {"FLOOR_DSN": db.dsn}),
        "wijkwerk": lambda: server("app.asgi:create", production_env(db.url), factory=True),
        "wijkwerk+proposals": lambda: server(
            "bench.graphql.proposals:create", production_env(db.url), factory=True
        ),
        "postgraphile": lambda: postgraphile(db.dsn),
    }
    wanted = [
        (name, stack, scenario)
        for stack in options.stacks
        for name, scenario in scenarios(stack).items()
        if name in options.only
    ]
    runs: dict[tuple[str, str], list[RunResult]] = {(name, stack): [] for name, stack, _ in wanted}
    with ExitStack() as stack_of_servers:
        bases = {stack: stack_of_servers.enter_context(starters[stack]()) for stack in options.stacks}
        postgres = cpu.postgres_pid(data.DATA_DIR)
        for _name, stack, scenario in wanted:
            _answers(bases[stack], scenario)
            run_wrk(bases[stack], scenario, connections=options.connections, seconds=options.warmup)
        for repeat in range(options.repeats):
            for name, stack, scenario in sorted(wanted, key=lambda w: w[0]):
                app = cpu.server_pid(bases[stack])
                before = cpu.tree_seconds(app), cpu.tree_seconds(postgres)
                found = run_wrk(
                    bases[stack], scenario, connections=options.connections, seconds=options.seconds
                )
                spent = cpu.tree_seconds(app) - before[0], cpu.tree_seconds(postgres) - before[1]
                runs[(name, stack)].append(found)
                CPU_MS[(name, stack)].append(tuple(1000 * s / max(found.requests, 1) for s in spent))
                print(f"run {repeat + 1}: {name} {stack}: {found.requests_per_second:.1f} rps", flush=True)
    return {key: Measurement(f"{key[0]} {key[1]}", found) for key, found in runs.items()}


# (query, stack) -> per timed run: (server CPU ms, PostgreSQL CPU ms) per request
CPU_MS: dict[tuple[str, str], list[tuple[float, ...]]] = defaultdict(list)


def _cpu(key: tuple[str, str]) -> tuple[float, float]:
    found = CPU_MS.get(key) or [(float("nan"), float("nan"))]
    return statistics.median(f[0] for f in found), statistics.median(f[1] for f in found)


def rows(
    results: dict[tuple[str, str], Measurement], counts: dict[tuple[str, str], int]
) -> list[dict[str, object]]:
    table = []
    for (name, stack), found in sorted(results.items()):
        peer = results.get((name, "postgraphile"))
        base = results.get((name, "floor"))
        app_ms, pg_ms = _cpu((name, stack))
        peer_ms = sum(_cpu((name, "postgraphile")))
        table.append(
            {
                **found.row(),
                # wrk's "errors" are answers other than 2xx/3xx plus socket errors; under load the
                # latter are wrk's own 2 s timeouts (a request still queued), not failed requests.
                "non_2xx": sum(r.non_2xx for r in found.runs),
                "socket_errors": sum(r.socket_errors for r in found.runs),
                "sql_per_request": counts[(name, stack)],
                "x_postgraphile": round(found.median_rps / peer.median_rps, 2) if peer else "",
                "x_floor": round(found.median_rps / base.median_rps, 2) if base else "",
                "cpu_ms_server": round(app_ms, 2),
                "cpu_ms_postgres": round(pg_ms, 2),
                "x_postgraphile_cpu": round(peer_ms / (app_ms + pg_ms), 2),
            }
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", nargs="+", default=["dashboard", "list"], choices=["dashboard", "list"])
    parser.add_argument("--stacks", nargs="+", default=STACKS, choices=STACKS)
    parser.add_argument("--check", action="store_true", help="answers and SQL counts only, no load")
    options = parser.parse_args()
    db = data.start()
    asyncio.run(data.prepare(db))
    ours = asyncio.run(wijkwerk_answers(db.url))
    floors = asyncio.run(floor_answers(db.dsn))
    with postgraphile(db.dsn) as base:
        peers = postgraphile_answers(base)
    counts: dict[tuple[str, str], int] = {}
    for name in ("dashboard", "list"):
        items = check_same(name, ours[name][0], floors[name], from_postgraphile(name, peers[name][0]))
        counts[(name, "floor")] = 1
        counts[(name, "wijkwerk")] = counts[(name, "wijkwerk+proposals")] = ours[name][1]
        counts[(name, "postgraphile")] = peers[name][1]
        print(f"{name}: {items} initiatives; same data from all three stacks", flush=True)
    if options.check:
        print(counts)
        return
    table = rows(load(db, options), counts)
    report(table, RESULTS)


if __name__ == "__main__":
    main()
