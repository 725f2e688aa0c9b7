"""Benchmark of partner referrals and webhooks, each next to its floor, in one run.

    .venv/bin/python -m bench.referrals.run [--seconds 10] [--repeats 3] [--backlog 20000]

(a) Partner ``POST /api/v1/referrals`` with a fresh Idempotency-Key per request and the outbox on
    (every partner has a webhook subscription, so each referral queues an event and a delivery):
    one uvicorn worker (production settings), wrk with 16 connections, a real token per partner
    client (16 partners, rotated per request), a warm-up, then 3 timed runs: median and spread,
    p50/p99, errors, SQL statements per request (counted in process). Next to it the floor: a
    minimal Starlette + raw asyncpg endpoint doing the same database work in one transaction.
(b) The relay: ``--backlog`` deliveries queued, drained into a loopback receiver by one and then by
    two ``wijkwerk relay`` processes; events/s and a check that every event arrived exactly once.
    Next to it the floor: the receiver's own rate with a plain httpx client loop.

Everything runs on loopback against the benchmark's own embedded PostgreSQL
(``.wijkwerk/bench-referrals``). The machine may be shared: the run waits (up to ``--wait`` seconds)
for the 1-minute load average to drop below ``--max-load`` and reports the load it ran at.
Results go to bench/results/referrals.json and are printed as Markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

import asyncpg
import httpx

from bench.harness import Measurement, server
from bench.referrals import data, load, relays
from bench.referrals.profile import count_sql

RESULTS = data.ROOT / "bench" / "results" / "referrals.json"
PATH = "/api/v1/referrals"
FLOOR = "floor (Starlette + asyncpg)"
WHAT_IF = "what-if: no pre-ping, token cache, pool 16, route order (not shipped)"
RESET = """
TRUNCATE referral_transitions, webhook_attempts, webhook_deliveries, webhook_events, referrals,
         idempotency_keys CASCADE
"""  # the benchmark's own database only, which has no plans (access_log is append-only and stays)


def wait_for_quiet(max_load: float, wait: float) -> float:
    """Wait (bounded) until the 1-minute load average is below ``max_load``; returns the last one."""
    deadline = time.monotonic() + wait
    while True:
        current = os.getloadavg()[0]
        if current < max_load or time.monotonic() >= deadline:
            return current
        print(f"load {current:.2f} >= {max_load}: waiting", flush=True)
        time.sleep(15)


def template() -> str:
    """The request body with ``%s`` for the request number and then for the buurt code (wrk Lua)."""
    body = json.dumps(data.referral_body("__BUURT__", "__N__"))
    return body.replace("%", "%%").replace("__N__", "%s").replace("__BUURT__", "%s")


def _first_post(base: str, token: str) -> None:
    """One request before the load: a server that answers with errors must not be measured."""
    body = data.referral_body(data.BUURTEN[0], "0")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": data.new_key()}
    response = httpx.post(base + PATH, json=body, headers=headers, timeout=30)
    assert response.status_code == 201, response.text[:500]


def posts(db: data.BenchDatabase, tokens: list[str], options: argparse.Namespace) -> list[dict[str, object]]:
    asyncio.run(_execute(db.dsn, RESET))
    counted = asyncio.run(count_sql(db.url, tokens))
    stacks = {
        FLOOR: lambda: server(
            "bench.referrals.floor:app", {"FLOOR_DSN": db.dsn, "FLOOR_TOKENS": ",".join(tokens)}
        ),
        "wijkwerk": lambda: server("app.asgi:create", data.environment(db.url), factory=True),
    }
    if options.what_if:
        env = {**data.environment(db.url), "WIJKWERK_DB_POOL_SIZE": str(options.connections)}
        stacks[WHAT_IF] = lambda: server("bench.referrals.whatif:create", env, factory=True)
    sql = {
        FLOOR: (1, 0),  # floor.py: the app's one statement, on its own (no transaction)
        "wijkwerk": (counted.statements, counted.transactions),
        WHAT_IF: (counted.statements, counted.transactions),
    }
    rows: list[dict[str, object]] = []
    found: dict[str, Measurement] = {}
    for name, start in stacks.items():
        with start() as base:
            _first_post(base, tokens[0])
            found[name] = load.measure(
                f"POST {PATH} {name}",
                base,
                lambda: load.lua(tokens, data.BUURTEN, template(), PATH),
                connections=options.connections,
                seconds=options.seconds,
                repeats=options.repeats,
                warmup=options.warmup,
            )
        statements, transactions = sql[name]
        rows.append({**found[name].row(), "sql_per_request": statements, "transactions": transactions})
    floor = found[FLOOR].median_rps
    for row, measured in zip(rows, found.values(), strict=True):
        row["x_floor"] = round(measured.median_rps / floor, 2) if floor else ""
    return rows


def relay_rows(db: data.BenchDatabase, options: argparse.Namespace) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with relays.receiver() as base:
        rows.append(relays.receiver_ceiling(base, seconds=options.seconds))
        for count in (1, 2):
            rows.append(relays.run_relays(db, base, count=count, backlog=options.backlog).row())
    return rows


async def _execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def table(rows: list[dict[str, object]]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--only", nargs="+", default=["posts", "relay"], choices=["posts", "relay"])
    parser.add_argument(
        "--no-what-if",
        dest="what_if",
        action="store_false",
        help="skip the what-if stack (bench/referrals/whatif.py: knobs outside the referral code)",
    )
    parser.add_argument("--max-load", type=float, default=2.5)
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for a quiet machine")
    options = parser.parse_args()
    db = data.start()
    asyncio.run(data.prepare(db))
    tokens = asyncio.run(data.partner_tokens(db.url))
    results: dict[str, Any] = {"load_before": wait_for_quiet(options.max_load, options.wait)}
    print(f"1-minute load average at start: {results['load_before']:.2f}", flush=True)
    if "posts" in options.only:
        results["posts"] = posts(db, tokens, options)
        print(table(results["posts"]), flush=True)
    if "relay" in options.only:
        results["relay"] = relay_rows(db, options)
        print(table(results["relay"]), flush=True)
    results["load_after"] = os.getloadavg()[0]
    print(f"1-minute load average at the end: {results['load_after']:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
