"""Statistics benchmark: every measure for all buurten and four quarters, and the whole catalogue for
one quarter, through a real uvicorn, next to the bare SQL for the same figures in the same run.

    .venv/bin/python -m bench.stats.run                 # 100k households (loads them the first time)
    .venv/bin/python -m bench.stats.run --seconds 5 --repeats 1 --measures households_closed

Data: ``wijkwerk demo-data --households N`` into a dedicated data dir (bench/results/stats-db, an
embedded PostgreSQL of its own), then ``data.scale`` (100 buurten, spread closings, referrals,
networks, initiatives), then a rollup refresh (timed). Per measure:

* ``service``: ``GET /api/v1/stats/<measure>?level=buurt&period=quarter&from=<year>-01-01&to=<year>-12-31``
  with a real analyst token, driven by wrk with ONE connection (latency, not throughput under load),
  after a warm-up; p50/p99 are wrk's, the median over ``--repeats`` runs of ``--seconds``;
* ``first``: the first request for the measure on a freshly started server (nothing remembered);
* ``bare SQL``: bench/stats/bare.py with asyncpg, one connection, repeated for the same time budget
  (``--repeats`` x ``--seconds``), p50/p99 over all runs;
* ``ratio``: bare p50 / service p50 (above 1: the service is faster than the bare SQL).

Then the catalogue: every measure for one quarter, sequentially over HTTP, ``--catalogue-rounds``
times (the first round on the fresh server is reported apart). Results: a Markdown table on stdout
and JSON in bench/results/stats-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx

from bench.harness import ROOT, Scenario, measure, report, server
from bench.stats.bare import BARE
from bench.stats.data import scale

DATA_DIR = ROOT / "bench" / "results" / "stats-db"
RESULTS = ROOT / "bench" / "results"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_demo(households: int) -> None:
    if (DATA_DIR / "demo-credentials.json").exists():
        return
    log(f"loading {households} demo households into {DATA_DIR} (several minutes) ...")
    env = {**os.environ, "WIJKWERK_DATA_DIR": str(DATA_DIR)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "wijkwerk"), "demo-data", "--households", str(households)],
        env=env, cwd=ROOT, check=True,
    )  # fmt: skip


async def _prepare(url: str) -> float:
    """Migrate, scale the demo data once, refresh the rollups; returns the refresh's seconds."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.migrations import upgrade

    engine = create_async_engine(url)
    await upgrade(engine)
    await engine.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        if await scale(conn, log):
            log("scaled the demo data")
    finally:
        await conn.close()
    return await _refresh(url)


async def _refresh(url: str) -> float:
    """The service's own rollup refresh (app/domain/stats/rollups.py); returns its seconds."""
    from app.db import Database
    from app.domain.stats import rollups
    from app.settings import Settings

    db = Database(url, Settings(), pool_size=1, max_overflow=0)
    try:
        started = time.perf_counter()
        async with db.transaction() as session:
            await rollups.refresh(session)
        return time.perf_counter() - started
    finally:
        await db.dispose()


def _token(base: str) -> str:
    clients = json.loads((DATA_DIR / "demo-credentials.json").read_text())["clients"]
    analyst = clients["analyst"]
    response = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "stats:read"},
        auth=(analyst["client_id"], analyst["client_secret"]),
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _path(measure_id: str, first: str, last: str) -> str:
    return f"/api/v1/stats/{measure_id}?area=GM9999&level=buurt&period=quarter&from={first}&to={last}"


async def _bare(url: str, sql: str, year: int, seconds: float) -> list[float]:
    """Run the bare SQL repeatedly for ``seconds``; the latencies in ms."""
    quarters = [date(year, m, 1) for m in (1, 4, 7, 10)]
    ends = [*quarters[1:], date(year + 1, 1, 1)]
    typed = f"WITH params AS (SELECT $1::uuid, $2::date, $3::date, $4::date[], $5::date[]) {sql}"
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        municipality = await conn.fetchval("SELECT id FROM municipalities WHERE code = 'GM9999'")
        args = (municipality, quarters[0], ends[-1], quarters, ends)
        statement = await conn.prepare(typed)
        await statement.fetch(*args)  # warm-up
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(latencies) < 3:
            started = time.perf_counter()
            await statement.fetch(*args)
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies
    finally:
        await conn.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed_get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--year", type=int, default=2025, help="the four quarters of this year")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--catalogue-rounds", type=int, default=5)
    parser.add_argument("--measures", nargs="*", help="only these measures (default: the catalogue)")
    args = parser.parse_args()

    from app.domain.stats.catalogue import CATALOGUE
    from app.embedded import start_embedded_postgres

    measures = args.measures or list(CATALOGUE)
    command = "python -m bench.stats.run " + " ".join(sys.argv[1:])
    _load_demo(args.households)
    url, pg = start_embedded_postgres(DATA_DIR)
    try:
        refresh_seconds = asyncio.run(_prepare(url))
        log(f"rollups refreshed in {refresh_seconds:.1f} s")
        env = {
            "DATABASE_URL": url,
            "WIJKWERK_DATA_DIR": str(DATA_DIR),
            # One analyst client sends thousands of requests a minute here; the limit is not measured.
            "WIJKWERK_RATE_LIMIT_MACHINE_PER_MINUTE": "100000000",
            # Rollups are refreshed by this benchmark (below), not in the server's background.
            "WIJKWERK_STATS_REFRESH_SECONDS": "86400",
            # No line per request on stdout (uvicorn's own access log is off in bench.harness too).
            "WIJKWERK_LOG_LEVEL": "WARNING",
        }
        first, last = f"{args.year}-01-01", f"{args.year}-12-31"
        rows: list[dict[str, Any]] = []
        with server("app.asgi:create", env, factory=True) as base:
            headers = {"Authorization": f"Bearer {_token(base)}"}
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                cold = {m: _timed_get(client, _path(m, first, last)) for m in measures}
            refreshed = time.monotonic()
            for measure_id in measures:
                log(f"{measure_id} ...")
                if time.monotonic() - refreshed > 8 * 60:  # stay well inside the rollups' maximum age
                    asyncio.run(_refresh(url))
                    refreshed = time.monotonic()
                scenario = Scenario(
                    measure_id,
                    [_path(measure_id, first, last)],
                    headers={"Authorization": f"Bearer {_token(base)}"},
                )
                result = measure(base, scenario, connections=1, seconds=args.seconds, repeats=args.repeats)
                bare = asyncio.run(_bare(url, BARE[measure_id], args.year, args.seconds * args.repeats))
                bare_p50 = statistics.median(bare)
                rows.append(
                    {
                        "measure": measure_id,
                        "service p50 ms": round(result.p50_ms, 1),
                        "service p99 ms": round(result.p99_ms, 1),
                        "first ms": round(cold[measure_id], 1),
                        "bare SQL p50 ms": round(bare_p50, 1),
                        "bare SQL p99 ms": round(_percentile(bare, 0.99), 1),
                        "ratio": round(bare_p50 / result.p50_ms, 2) if result.p50_ms else None,
                        "errors": result.errors,
                    }
                )
            asyncio.run(_refresh(url))
        catalogue = _catalogue(env, measures, args.year, args.catalogue_rounds)
    finally:
        pg.cleanup()
    report(rows)
    print()
    report([catalogue])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"stats-{stamp}.json"
    document = {
        "command": command,
        "refresh_seconds": refresh_seconds,
        "measures": rows,
        "catalogue": catalogue,
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\ncommand: {command}\nrollup refresh: {refresh_seconds:.1f} s\nresults: {out.relative_to(ROOT)}")


def _catalogue(env: dict[str, str], measures: list[str], year: int, rounds: int) -> dict[str, Any]:
    """Every measure for the third quarter, one after the other, on a freshly started server."""
    first, last = f"{year}-07-01", f"{year}-09-30"
    totals = []
    with server("app.asgi:create", env, factory=True) as base:
        headers = {"Authorization": f"Bearer {_token(base)}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for _ in range(rounds + 1):
                started = time.perf_counter()
                for measure_id in measures:
                    client.get(_path(measure_id, first, last)).raise_for_status()
                totals.append((time.perf_counter() - started) * 1000)
    return {
        "catalogue (one quarter)": f"{len(measures)} measures",
        "first round ms": round(totals[0], 1),
        "p50 ms": round(statistics.median(totals[1:]), 1),
        "max ms": round(max(totals[1:]), 1),
        "rounds": rounds,
    }


if __name__ == "__main__":
    main()
