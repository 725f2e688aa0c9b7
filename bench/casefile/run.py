"""Load benchmark of the household case file: Wijkwerk against its floor, in one run.

    WIJKWERK_DATA_DIR=.wijkwerk/bench-casefile .venv/bin/wijkwerk demo-data --households 100000  # once
    .venv/bin/python -m bench.casefile.run [--seconds 10] [--repeats 3] [--connections 32]

1. Opens the benchmark data (its embedded PostgreSQL), vacuums what earlier runs wrote, makes a real
   token for a generalist of team A and does "a day of work" after taking yesterday's sync cursor.
2. In process, once per scenario: one request through the app (production settings) and one through
   the floor, counting the SQL statements each sends (driver level: every statement asyncpg sends,
   BEGIN/COMMIT and pool pings included; and SQLAlchemy's before_cursor_execute), checking the app's
   answer against its response model and that the floor sends the same SQL.
3. Under load: real uvicorn on loopback (one worker, uvloop, httptools), wrk with 32 connections, for
   (a) household overview, (b) 50 households of a team, (c) a contact moment, (d) sync from a
   one-day-old cursor, (e) an upload of 20 queued edits, (f) the worklist of a worker with 60
   households, (g) a team lead's worklist of a 12-worker team; the app, then the floor, per scenario: a
   warm-up, then 3 timed runs; median and spread, p50/p99, errors. Waits (up to --wait seconds) for a
   1-minute load below --max-load first.
Results: bench/results/casefile.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from pydantic import TypeAdapter

from app.api.pagination import Page
from app.api.v1.sync_edits import EditResults
from app.domain.households.schemas import ContactRead, HouseholdRead
from app.domain.readmodel.overview_schemas import HouseholdOverview
from app.domain.readmodel.worklist_schemas import WorklistPage
from app.domain.sync.schemas import SyncPage
from app.main import create_app
from bench.casefile import fixtures
from bench.casefile.counting import Counter, counting
from bench.casefile.scenarios import NAMES, TITLES, requests_for, scenario
from bench.harness import ROOT, Measurement, measure, report, server

RESULTS = ROOT / "bench" / "results" / "casefile.json"
MODELS: dict[str, TypeAdapter[Any]] = {
    "overview": TypeAdapter(HouseholdOverview),
    "list": TypeAdapter(Page[HouseholdRead]),
    "contact": TypeAdapter(ContactRead),
    "sync": TypeAdapter(SyncPage),
    "upload": TypeAdapter(EditResults),
    "worklist-worker": TypeAdapter(WorklistPage),
    "worklist-lead": TypeAdapter(WorklistPage),
}


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_quiet(max_load: float, wait: int) -> float:
    deadline = time.monotonic() + wait
    while (load := load_average()) >= max_load and time.monotonic() < deadline:
        print(f"load {load:.2f} >= {max_load}: waiting ...", flush=True)
        time.sleep(15)
    return load


def sql_only(statements: list[str]) -> list[str]:
    """Without transaction control (BEGIN [ISOLATION ...], COMMIT, ROLLBACK) and pool pings (;)."""
    return [s for s in statements if not _control(s)]


# -- in process: statements per request, answers checked, the sync script for the floor ------------


async def in_process(
    args: argparse.Namespace, env: dict[str, str], floor_env: dict[str, str]
) -> dict[str, Any]:
    settings = fixtures.settings_from({**env, "WIJKWERK_LOG_LEVEL": "WARNING"})
    app = create_app(settings)
    facts: fixtures.Fixtures
    found: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        db = app.state.db
        facts = await fixtures.prepare(db, settings)
        await fixtures.a_day_of_work(db, settings, facts)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            for name in args.scenarios:
                make = requests_for(name, facts)
                await _send(client, make(0))  # warm: keys, caches, prepared statements
                with counting(db.engine) as counter:
                    response = await _send(client, make(1))
                MODELS[name].validate_json(response.content)  # the bytes match the response model
                found[name] = {"app": counter, "app_cursor": counter.cursor}
                if name == "sync":  # the floor replays what the app sent for this cursor
                    found["sync_script"] = [(q, a) for q, a in counter.calls if not _control(q)]
    floor_env.update(facts.floor_env())
    script = pickle.dumps(found.pop("sync_script", []))  # none when sync is not run
    await asyncio.to_thread(Path(floor_env["FLOOR_SYNC_SCRIPT"]).write_bytes, script)
    await _floor_in_process(floor_env, facts, found)
    return {"facts": facts, "counts": found}


def _control(query: str) -> bool:
    words = query.strip().rstrip(";").upper().split()
    return not words or words[0] in {"BEGIN", "COMMIT", "ROLLBACK"}


async def _floor_in_process(
    floor_env: dict[str, str], facts: fixtures.Fixtures, found: dict[str, Any]
) -> None:
    os.environ.update(floor_env)
    from bench.casefile import floor

    floor.floor.__init__()  # type: ignore[misc]  # read the environment just set
    async with floor.app.router.lifespan_context(floor.app):
        transport = httpx.ASGITransport(app=floor.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            for name in found:  # the scenarios the app answered
                make = requests_for(name, facts)
                await _send(client, make(2))
                with counting() as counter:
                    await _send(client, make(3))
                found[name]["floor"] = counter


async def _send(
    client: httpx.AsyncClient, request: tuple[str, str, dict[str, str], str | None]
) -> httpx.Response:
    method, path, headers, body = request
    response = await client.request(method, path, headers=headers, content=body)
    if response.status_code >= 300:
        raise SystemExit(f"{client.base_url} {method} {path}: {response.status_code} {response.text[:300]}")
    return response


# -- under load ------------------------------------------------------------------------------------


@contextmanager
def stdout_to(path: str) -> Iterator[None]:
    """Children started in the block write their stdout (the app's access lines) to ``path``."""
    saved = os.dup(1)
    with open(path, "ab") as target:
        os.dup2(target.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def under_load(
    args: argparse.Namespace, env: dict[str, str], floor_env: dict[str, str], facts: Any
) -> dict[str, Measurement]:
    results: dict[str, Measurement] = {}
    with ExitStack() as stack:
        with stdout_to(os.devnull):
            bases = {"wijkwerk": stack.enter_context(server("app.asgi:create", env, factory=True))}
            bases["floor"] = stack.enter_context(server("bench.casefile.floor:app", floor_env))
        for name in args.scenarios:
            shape = scenario(name, facts)
            for stack_name, base in bases.items():
                print(f"  {name} / {stack_name} ...", flush=True)
                results[f"{name}/{stack_name}"] = measure(
                    base, shape, connections=args.connections, seconds=args.seconds,
                    repeats=args.repeats, warmup=args.warmup,
                )  # fmt: skip
    return results


def rows(
    results: dict[str, Measurement], counts: dict[str, Any], args: argparse.Namespace
) -> list[dict[str, Any]]:
    table = []
    for name in args.scenarios:
        floor_rps = results[f"{name}/floor"].median_rps
        for stack_name in ["wijkwerk", "floor"]:
            m = results[f"{name}/{stack_name}"]
            counter: Counter = counts[name]["floor" if stack_name == "floor" else "app"]
            row = {"scenario": TITLES[name], "stack": stack_name, **m.row()}
            row.pop("name")
            row["sql_per_request"] = len(counter.statements)
            row["of_which_sql"] = len(sql_only(counter.statements))
            row["vs_floor"] = f"{m.median_rps / floor_rps:.2f}x" if floor_rps else "-"
            table.append(row)
    return table


def same_sql(counts: dict[str, Any]) -> dict[str, bool]:
    return {
        name: sql_only(c["app"].statements) == sql_only(c["floor"].statements) for name, c in counts.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scenarios", nargs="+", choices=NAMES, default=list(NAMES))
    parser.add_argument("--data-dir", type=Path, default=fixtures.DATA_DIR)
    parser.add_argument("--max-load", type=float, default=2.5)
    parser.add_argument("--wait", type=int, default=600, help="seconds to wait for a quiet machine")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    # contact writes last: the sync range is then the day of work only
    order = ("overview", "list", "worklist-worker", "worklist-lead", "sync", "contact", "upload")
    args.scenarios = [n for n in order if n in args.scenarios]

    url, _server = fixtures.database(args.data_dir)
    env = fixtures.app_env(args.data_dir, url)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    asyncio.run(_vacuum(dsn))
    script = Path(tempfile.gettempdir()) / "wijkwerk-bench-casefile-sync.pickle"
    floor_env = {
        "FLOOR_DSN": dsn,
        "FLOOR_SECRET": fixtures.settings_from(env).secret("secret_key"),
        "FLOOR_SYNC_SCRIPT": str(script),
        "FLOOR_POOL": str(fixtures.settings_from(env).db_pool_size),
    }
    prepared = asyncio.run(in_process(args, env, floor_env))
    counts = prepared["counts"]
    print("same SQL as the app:", same_sql(counts))
    load_before = wait_for_quiet(args.max_load, args.wait)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    results = under_load(args, env, floor_env, prepared["facts"])
    table = rows(results, counts, args)
    meta = {
        "started": started,
        "load_1min_before": load_before,
        "load_1min_after": load_average(),
        "connections": args.connections,
        "seconds": args.seconds,
        "repeats": args.repeats,
        "same_sql": same_sql(counts),
        "day_of_work": prepared["facts"].day,
    }
    print(f"\nload (1 min) before: {load_before:.2f}, after: {meta['load_1min_after']:.2f}")
    report(table, None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    import json

    args.out.write_text(json.dumps({"meta": meta, "rows": table}, indent=2, default=str) + "\n")


async def _vacuum(dsn: str) -> None:
    """Earlier runs left contact moments, change and access-log rows: fresh statistics and visibility maps."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM (ANALYZE) households, contact_moments, case_changes, access_log")
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
