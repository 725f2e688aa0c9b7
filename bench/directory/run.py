"""Directory search benchmark (issue 13): text + theme + buurt search over 5,000 services at 20,000
locations, through a real uvicorn, next to its floor (the same statements on Starlette + asyncpg) in
the same run.

    .venv/bin/python -m bench.directory.run                      # 16 connections, 3 x 10 s
    .venv/bin/python -m bench.directory.run --seconds 5 --repeats 1
    .venv/bin/python -m bench.directory.run --cache off           # without the cached app

1. Data: the demo (``wijkwerk demo-data --households 20``) in bench/results/directory-db, an embedded
   PostgreSQL of its own, then bench/directory/data.py (set-based SQL, once).
2. In process: each search path once through the app (production settings, anonymous caller: the
   public map) while asyncpg's calls are recorded; the floor replays exactly those statements.
3. Under load: wrk with ``--connections`` (16) rotating over the search paths (a Dutch word, a theme,
   a buurt; 20 per page): the app with the anonymous answer cache off (every search runs its
   statement: the issue's ratio), the app with it on (``--cache both``, the default: after the
   warm-up every search is a kept answer, one version read), then the floor, each a warm-up and
   ``--repeats`` runs of ``--seconds``; median throughput, p50/p99, errors; each share of the
   floor's throughput. The floor caches nothing.
The 1-minute load average before and after is printed with the table (the machine may be shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.casefile.counting import recording
from bench.casefile.fixtures import app_env, settings_from
from bench.directory.data import WORDS, counts, generate
from bench.harness import ROOT, Scenario, measure, report, server

DATA_DIR = ROOT / "bench" / "results" / "directory-db"
RESULTS = ROOT / "bench" / "results" / "directory.json"
PATHS = 48
FLOOR = "floor (Starlette + asyncpg)"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> float:
    return os.getloadavg()[0]


def _load_demo() -> None:
    if (DATA_DIR / "secrets.json").exists():
        return
    log(f"loading the demo into {DATA_DIR} ...")
    env = {**os.environ, "WIJKWERK_DATA_DIR": str(DATA_DIR)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "wijkwerk"), "demo-data", "--households", "20"],
        env=env, cwd=ROOT, check=True,
    )  # fmt: skip


async def _prepare(url: str, dsn: str) -> tuple[list[str], dict[str, int]]:
    """Migrate, generate the directory (once); the search paths: word, theme and buurt in turn."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.migrations import upgrade

    engine = create_async_engine(url)
    await upgrade(engine)
    await engine.dispose()
    conn = await asyncpg.connect(dsn)
    try:
        if await generate(conn, log):
            log("generated the directory")
        themes = [r[0] for r in await conn.fetch("SELECT code FROM themes WHERE active ORDER BY code")]
        buurten = [
            r[0]
            for r in await conn.fetch(
                "SELECT code FROM areas WHERE level = 'buurt' AND code LIKE 'BU99991%' ORDER BY code"
            )
        ]
        sizes = await counts(conn)
    finally:
        await conn.close()
    paths = [
        f"/api/v1/directory/services?q={WORDS[(i * 7) % len(WORDS)]}&theme={themes[i % len(themes)]}"
        f"&neighbourhood={buurten[(i * 13) % len(buurten)]}&limit=20"
        for i in range(PATHS)
    ]
    return paths, sizes


def _sql(calls: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
    """Without pool pings and transaction control (the app's reads have none; the floor neither)."""
    kept = []
    for query, args in calls:
        words = query.strip().rstrip(";").upper().split()
        if words and words[0] not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            kept.append((query, args))
    return kept


async def _capture(env: dict[str, str], paths: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """Each path once through the app in process: the statements it sent, and how many hits."""
    from app.main import create_app

    app = create_app(settings_from({**env, "WIJKWERK_LOG_LEVEL": "WARNING"}))
    script: dict[str, Any] = {}
    hits: dict[str, int] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            for path in paths:
                (await client.get(path)).raise_for_status()  # warm: prepared statements, caches
                with recording() as calls:
                    response = await client.get(path)
                response.raise_for_status()
                hits[path] = len(response.json()["items"])
                script[path] = _sql(calls)
    return script, hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--cache", choices=("off", "on", "both"), default="both")
    args = parser.parse_args()

    from app.embedded import start_embedded_postgres

    command = "python -m bench.directory.run " + " ".join(sys.argv[1:])
    _load_demo()
    url, pg = start_embedded_postgres(DATA_DIR)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        paths, sizes = asyncio.run(_prepare(url, dsn))
        env = app_env(DATA_DIR, url)
        uncached = {**env, "WIJKWERK_DIRECTORY_ANSWER_CACHE_ENTRIES": "0"}
        script, hits = asyncio.run(
            _capture(uncached, paths)
        )  # the statements of a search, not of a kept answer
        statements = {len(calls) for calls in script.values()}
        log(f"statements per search: {sorted(statements)}; hits per page: {sorted(set(hits.values()))}")
        script_file = Path(tempfile.gettempdir()) / "wijkwerk-bench-directory.pickle"
        script_file.write_bytes(pickle.dumps(script))
        floor_env = {"FLOOR_DSN": dsn, "FLOOR_SCRIPT": str(script_file)}
        floor_env["FLOOR_POOL"] = str(settings_from(env).db_pool_size)
        load_before = load_average()
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        results = []
        stacks = [
            ("wijkwerk (answer cache off)", "app.asgi:create", uncached, True, args.cache != "on"),
            ("wijkwerk (answer cache on)", "app.asgi:create", env, True, args.cache != "off"),
            (FLOOR, "bench.directory.floor:app", floor_env, False, True),
        ]
        for name, app, stack_env, factory, wanted in stacks:
            if not wanted:
                continue
            log(f"{name} ...")
            with server(app, stack_env, factory=factory) as base:
                scenario = Scenario(name, paths)
                results.append(
                    measure(
                        base,
                        scenario,
                        connections=args.connections,
                        seconds=args.seconds,
                        repeats=args.repeats,
                        warmup=args.warmup,
                    )
                )
        load_after = load_average()
    finally:
        pg.cleanup()
    floor_rps = next(r.median_rps for r in results if r.name == FLOOR)
    rows = []
    for result in results:
        row = result.row()
        row["vs_floor"] = f"{result.median_rps / floor_rps:.2f}x" if floor_rps else "-"
        rows.append(row)
    print(f"\n{command}\nstarted {started}; load (1 min) before {load_before:.2f}, after {load_after:.2f}")
    print(f"data: {sizes}; {len(paths)} searches, {sorted(statements)} statements each\n")
    report(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "command": command,
        "started": started,
        "load_1min_before": load_before,
        "load_1min_after": load_after,
        "connections": args.connections,
        "cache": args.cache,
        "data": sizes,
        "statements_per_search": sorted(statements),
        "hits_per_page": sorted(set(hits.values())),
    }
    RESULTS.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
