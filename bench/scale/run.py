"""A measured multi-process deployment on one machine, against the single-process one, in one run.

    .venv/bin/python -m bench.scale.run [--seconds 30] [--warmup 5]

On the 100k-household data of the case-file benchmark (``.wijkwerk/bench-casefile``; make it with
``WIJKWERK_DATA_DIR=.wijkwerk/bench-casefile .venv/bin/wijkwerk demo-data --households 100000``, or
copy an existing one with ``cp -a``), two deployments are measured one after the other under the
same mixed load (``bench.scale.mix``):

* single: 1 API process (uvicorn, one worker), the primary only, 1 relay;
* scaled: 2 API processes behind one port (``uvicorn --workers 2``) with WIJKWERK_READ_DATABASE_URL
  at a streaming replica of the primary (``app.embedded.start_embedded_replica``, as ``wijkwerk serve
  --replica`` makes it), 2 relays (``wijkwerk relay``).

Both relay into the loopback webhook sink of the referral benchmark (every event a partner's
referral queues is delivered there). Per deployment: throughput, p50/p99 and errors per kind, the
replica's lag (sampled once a second on the primary), the relays' delivery rate and what was left
pending, CPU per process group from /proc, and the 1-minute load before and after.
Results: bench/results/scale.json and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app.db import Database
from app.embedded import EmbeddedReplica, start_embedded_replica
from bench.casefile import fixtures as casefile
from bench.casefile.run import stdout_to
from bench.harness import ROOT, RunResult, run_wrk, server
from bench.referrals import load as referral_load
from bench.referrals.relays import receiver, stats
from bench.scale import mix
from bench.scale.observe import CpuMeter, LagSamples, descendants, postmaster_pid, sample_lag

RESULTS = ROOT / "bench" / "results" / "scale.json"
DELIVERED = """
SELECT count(*) FILTER (WHERE d.status = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE d.status = 'pending') AS pending
FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE s.url LIKE '%' || $1 || '%'
"""


STALE = """
UPDATE webhook_deliveries SET status = 'cancelled', completed_at = now()
WHERE status = 'pending'
  AND subscription_id IN (SELECT id FROM webhook_subscriptions WHERE url LIKE '%' || $1 || '%')
"""
PENDING = """
SELECT count(*) FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE d.status = 'pending' AND s.url LIKE '%' || $1 || '%'
"""
WRK_TIMEOUT = 10  # seconds; wrk's default (2 s) would count every slower answer as an error


def load_average() -> float:
    return os.getloadavg()[0]


# -- the processes of a deployment -------------------------------------------------------------------


@contextmanager
def relays(env: dict[str, str], count: int) -> Iterator[list[int]]:
    """``count`` real ``wijkwerk relay`` processes (development settings: the sink is on loopback)."""
    relay_env = {
        **os.environ,
        **env,
        "WIJKWERK_ENVIRONMENT": "development",
        "WIJKWERK_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WIJKWERK_LOG_LEVEL": "WARNING",
    }
    processes = [
        subprocess.Popen([sys.executable, "-m", "app.cli", "relay"], cwd=ROOT, env=relay_env)
        for _ in range(count)
    ]
    try:
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def pids_listening(port: int) -> list[int]:
    """The uvicorn started for ``port`` (its master; the workers are its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"uvicorn" in command and str(port).encode() in command:
            found.append(int(entry.name))
    return found


# -- the load ----------------------------------------------------------------------------------------


def first_requests(base: str, load: mix.Load) -> None:
    """One request of each kind before the load: a deployment that answers errors is not measured."""
    for name, shape in load.scenarios.items():
        body = shape.body.replace("{n}", "first") if shape.body else None
        response = httpx.request(
            shape.method, base + shape.paths[0], headers=shape.headers, content=body, timeout=60
        )
        if response.status_code >= 300:
            raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")


def mixed_load(base: str, load: mix.Load, seconds: int) -> dict[str, RunResult]:
    """Every kind at once, each in its own wrk with its share of connections, for ``seconds``."""

    def one(name: str) -> RunResult:
        connections = mix.CONNECTIONS[name]
        if name == "referral":
            script = load.referral_script()
            return referral_load.run_wrk(
                base, script, connections=connections, seconds=seconds, timeout=WRK_TIMEOUT
            )[0]
        shape = load.scenarios[name]
        return run_wrk(base, shape, connections=connections, seconds=seconds, timeout=WRK_TIMEOUT)

    with ThreadPoolExecutor(len(mix.CONNECTIONS)) as pool:
        futures = {name: pool.submit(one, name) for name in mix.CONNECTIONS}
        return {name: future.result() for name, future in futures.items()}


def wrk_pids() -> list[int]:
    """This benchmark's own wrk processes (other people's on a shared machine are not ours to count)."""
    return [pid for pid in descendants(os.getpid()) if _command(pid) == "wrk"]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def measure_deployment(
    name: str,
    args: argparse.Namespace,
    env: dict[str, str],
    load: mix.Load,
    dsn: str,
    sink: str,
    *,
    workers: int,
    relay_count: int,
    replica: EmbeddedReplica | None,
) -> dict[str, Any]:
    print(f"== {name}: {workers} API process(es), {relay_count} relay(s), replica: {replica is not None}")
    deployment_env = {**env, **({"WIJKWERK_READ_DATABASE_URL": replica.url()} if replica else {})}
    with (
        stdout_to(os.devnull),
        server("app.asgi:create", deployment_env, workers=workers, factory=True) as base,
        relays(env, relay_count) as relay_pids,
    ):
        asyncio.run(_execute(dsn, STALE, mix.SINK_MARK))  # left by an earlier deployment's relays
        first_requests(base, load)
        mixed_load(base, load, args.warmup)  # warm: caches, pools, prepared statements
        relays_delivering(dsn)
        port = int(base.rsplit(":", 1)[1])
        masters = pids_listening(port)
        groups: dict[str, list[int]] = {
            "api (all processes)": masters,
            "postgres primary": [postmaster_pid(args.data_dir / "pgdata")],
            "relays": relay_pids,
            "wrk (load)": [],
        }
        workers_pids = sorted(set().union(*(descendants(m) for m in masters)) - set(masters))
        for index, pid in enumerate(workers_pids or masters, 1):
            groups[f"api process {index}"] = [pid]
        if replica is not None:
            groups["postgres replica"] = [postmaster_pid(replica.pgdata)]
        before = asyncio.run(_fetch(dsn, DELIVERED, mix.SINK_MARK))
        httpx.post(sink + "/reset", timeout=5.0)
        load_before = load_average()
        meter = CpuMeter(groups)
        meter.start()
        lag: dict[str, LagSamples] = {}
        sampler = threading.Thread(target=lambda: lag.update(samples=_lag(dsn, args.seconds)))
        sampler.start()
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(mixed_load, base, load, args.seconds)
            time.sleep(2)
            meter.roots["wrk (load)"] = wrk_pids()  # the wrk processes of this run
            results = running.result()
        cpu = meter.stop()
        sampler.join()
        routing = replica_routing(base) if replica is not None else None
        arrived = stats(sink)
        after = asyncio.run(_fetch(dsn, DELIVERED, mix.SINK_MARK))
    return {
        "deployment": name,
        "workers": workers,
        "relays": relay_count,
        "replica": replica is not None,
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(load_average(), 2),
        "kinds": {k: vars(r) for k, r in results.items()},
        "cpu_cores": cpu,
        "replica_lag": lag["samples"].summary() if replica is not None else None,
        "replica_routing": routing,
        "relay": {
            "arrived_per_s": round(arrived["posts"] / args.seconds, 1),
            "duplicates": arrived["duplicates"],
            "succeeded_in_run": after["succeeded"] - before["succeeded"],
            "pending_at_end": after["pending"],
        },
    }


ROUTING = (
    "wijkwerk_db_read_fallbacks_total",
    "wijkwerk_db_replica_usable",
    "wijkwerk_db_replica_lag_seconds",
)


def replica_routing(base: str, scrapes: int = 4) -> list[str]:
    """Did the reads go to the replica? Each API process answers /metrics for itself, so a few
    scrapes land on both workers: their fallback counters and replica gauges."""
    seen: set[str] = set()
    for _ in range(scrapes):
        text = httpx.get(base + "/metrics", timeout=30).text
        seen.update(line for line in text.splitlines() if line.startswith(ROUTING))
    return sorted(seen)


def relays_delivering(dsn: str, timeout: float = 120) -> None:
    """The warm-up's referrals queued deliveries: once the relays drained them, they are running."""
    deadline = time.monotonic() + timeout
    while asyncio.run(_fetch(dsn, PENDING, mix.SINK_MARK))["count"] and time.monotonic() < deadline:
        time.sleep(1)


async def _execute(dsn: str, sql: str, *params: Any) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql, *params)
    finally:
        await connection.close()


def _lag(dsn: str, seconds: float) -> LagSamples:
    return asyncio.run(sample_lag(dsn, seconds))


async def _fetch(dsn: str, sql: str, *params: Any) -> dict[str, int]:
    connection = await asyncpg.connect(dsn)
    try:
        return dict(await connection.fetchrow(sql, *params))
    finally:
        await connection.close()


async def _prepare(url: str, env: dict[str, str], sink: str) -> mix.Load:
    settings = casefile.settings_from({**env, "WIJKWERK_LOG_LEVEL": "WARNING"})
    db = Database(url, settings)
    try:
        return await mix.build(db, settings, sink, date.today().year)
    finally:
        await db.dispose()


async def _vacuum(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "VACUUM (ANALYZE) households, contact_moments, case_changes, access_log, referrals, "
            "webhook_deliveries, webhook_events"
        )
    finally:
        await connection.close()


# -- the report ----------------------------------------------------------------------------------------


def table(results: list[dict[str, Any]], seconds: int) -> str:
    lines = ["| kind | connections | " + " | ".join(
        f"{r['deployment']} req/s | p50 ms | p99 ms | errors" for r in results) + " |"]  # fmt: skip
    lines.append("|---|---|" + "---|---|---|---|" * len(results))
    for kind, title in mix.TITLES.items():
        cells = []
        for r in results:
            k = r["kinds"][kind]
            cells.append(f"{k['requests_per_second']:.1f} | {k['p50_ms']:.0f} | {k['p99_ms']:.0f} | "
                         f"{k['non_2xx'] + k['socket_errors']}")  # fmt: skip
        lines.append(f"| {title} | {mix.CONNECTIONS[kind]} | " + " | ".join(cells) + " |")
    totals = [sum(k["requests_per_second"] for k in r["kinds"].values()) for r in results]
    lines.append("| **all** | " + str(sum(mix.CONNECTIONS.values())) + " | "
                 + " | ".join(f"**{t:.1f}** | | | " for t in totals) + " |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=casefile.DATA_DIR)
    parser.add_argument("--only", choices=["single", "scaled"], help="measure one deployment only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    url, primary = casefile.database(args.data_dir)
    env = {
        **casefile.app_env(args.data_dir, url),
        "WIJKWERK_RATE_LIMIT_MACHINE_PER_MINUTE": "1000000",  # a policy, not a capacity (as bench.referrals)
    }
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    asyncio.run(_vacuum(dsn))
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    results = []
    with receiver() as sink:
        load = asyncio.run(_prepare(url, env, sink))
        if args.only != "scaled":
            single = measure_deployment(
                "single", args, env, load, dsn, sink, workers=1, relay_count=1, replica=None
            )
            results.append(single)
        if args.only != "single":
            print("making the streaming replica (pg_basebackup) ...", flush=True)
            replica = start_embedded_replica(primary, args.data_dir / "pgdata-replica")
            try:
                scaled = measure_deployment(
                    "scaled", args, env, load, dsn, sink, workers=2, relay_count=2, replica=replica
                )
                results.append(scaled)
            finally:
                replica.stop()
    print(f"\nstarted {started}, {args.seconds} s per deployment, {os.cpu_count()} cores")
    print(table(results, args.seconds))
    for r in results:
        print(
            f"\n{r['deployment']}: load {r['load_1min_before']} -> {r['load_1min_after']}; "
            f"CPU (cores) {r['cpu_cores']}; relay {r['relay']}; replica lag {r['replica_lag']}; "
            f"routing {r['replica_routing']}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    saved = {"started": started, "seconds": args.seconds, "connections": mix.CONNECTIONS, "results": results}
    args.out.write_text(json.dumps(saved, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
