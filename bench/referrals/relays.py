"""The relay benchmark: a backlog of queued deliveries, drained by one or two ``wijkwerk relay``
processes into the loopback receiver; and the receiver's own ceiling with a plain httpx client.

Used by ``bench.referrals.run``. Each relay is the real command (``python -m app.cli relay``, default
``RelayConfig``) in a process of its own, against the benchmark database; the receiver counts every
``webhook-id``, so an event that arrived twice shows up as a duplicate.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from bench.harness import free_port
from bench.referrals import data

BACKLOG_SQL = """
WITH subs AS (
    SELECT id, organisation_id, (row_number() OVER (ORDER BY created_by_client_id)) - 1 AS i
    FROM webhook_subscriptions WHERE created_by_client_id LIKE 'bench-partner-%'
), made AS (
    SELECT gen_random_uuid() AS event_id, s.id AS subscription_id, s.organisation_id, now() AS at
    FROM generate_series(0, $1 - 1) AS g JOIN subs AS s ON s.i = g % (SELECT count(*) FROM subs)
), events AS (
    INSERT INTO webhook_events (id, event_type, organisation_id, payload)
    SELECT event_id, 'referral.submitted', organisation_id, jsonb_build_object(
        'type', 'referral.submitted', 'timestamp', at,
        'data', jsonb_build_object('referral_id', gen_random_uuid(), 'direction', 'inbound',
                                   'status', 'submitted', 'occurred_at', at))
    FROM made RETURNING id
)
INSERT INTO webhook_deliveries (id, event_id, subscription_id, status, next_attempt_at)
SELECT gen_random_uuid(), made.event_id, made.subscription_id, 'pending', now() + interval '1 day'
FROM made JOIN events ON events.id = made.event_id
"""
STUCK = "UPDATE webhook_deliveries SET status = 'cancelled', completed_at = now() WHERE status = 'pending'"
RELEASE = "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'"
PENDING = "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"
OUTCOME = """
SELECT count(*) FILTER (WHERE d.status = 'succeeded' AND d.attempts = 1) AS once,
       (SELECT count(*) FROM webhook_attempts AS a JOIN webhook_deliveries AS x ON x.id = a.delivery_id
        WHERE x.created_at >= $1) AS attempts
FROM webhook_deliveries AS d WHERE d.created_at >= $1
"""


@dataclass
class RelayRun:
    relays: int
    deliveries: int
    events_per_second: float  # first to last arrival at the receiver
    drained_seconds: float  # from releasing the backlog until nothing was pending
    arrived: int
    duplicates: int
    delivered_once: int  # deliveries succeeded after exactly one attempt (database)
    attempt_rows: int

    def row(self) -> dict[str, object]:
        return {
            "name": f"relay x{self.relays} ({self.deliveries} queued)",
            "events_per_s": round(self.events_per_second, 1),
            "drained_s": round(self.drained_seconds, 1),
            "arrived": self.arrived,
            "duplicates": self.duplicates,
            "delivered_once": self.delivered_once,
            "attempt_rows": self.attempt_rows,
        }


@contextmanager
def receiver() -> Iterator[str]:
    """The loopback receiver in a process of its own; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.referrals.receiver", "--port", str(port)], cwd=data.ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/stats", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def stats(base: str) -> dict[str, Any]:
    return dict(httpx.get(base + "/stats", timeout=5.0).json())


@contextmanager
def relays(db: data.BenchDatabase, count: int) -> Iterator[None]:
    """``count`` real ``wijkwerk relay`` processes (development settings: loopback targets allowed)."""
    env = {**os.environ, **data.environment(db.url, production=False)}
    processes = [
        subprocess.Popen([sys.executable, "-m", "app.cli", "relay"], cwd=data.ROOT, env=env)
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


CONNECTED = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = 'wijkwerk'
"""


def _wait_for_relays(db: data.BenchDatabase, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if asyncio.run(_execute(db.dsn, CONNECTED))[0][0] >= count:
            time.sleep(1.5)  # a round or two with nothing due
            return
        time.sleep(0.25)
    raise RuntimeError("the relays did not connect")


async def _execute(dsn: str, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


def run_relays(
    db: data.BenchDatabase, base: str, *, count: int, backlog: int, timeout: float = 600
) -> RelayRun:
    """Queue ``backlog`` deliveries (not yet due), start the relays, release the backlog, wait until
    it drained, and check that each event arrived exactly once."""
    asyncio.run(data.point_subscriptions_at(db.dsn, base + "/hooks"))
    asyncio.run(_execute(db.dsn, STUCK))  # e.g. the deliveries queued by the POST benchmark
    started_at = asyncio.run(_execute(db.dsn, "SELECT now()"))[0][0]
    asyncio.run(_execute(db.dsn, BACKLOG_SQL, backlog))
    with relays(db, count):
        _wait_for_relays(db, count)  # started, connected, and finding nothing due yet
        httpx.post(base + "/reset", timeout=5.0)
        released = time.monotonic()
        asyncio.run(_execute(db.dsn, RELEASE))
        deadline = released + timeout
        while time.monotonic() < deadline:
            if asyncio.run(_execute(db.dsn, PENDING))[0][0] == 0:
                break
            time.sleep(0.25)
        drained = time.monotonic() - released
    seen = stats(base)
    outcome = asyncio.run(_execute(db.dsn, OUTCOME, started_at))[0]
    return RelayRun(
        relays=count,
        deliveries=backlog,
        events_per_second=seen["posts"] / seen["seconds"] if seen["seconds"] else 0.0,
        drained_seconds=drained,
        arrived=seen["posts"],
        duplicates=seen["duplicates"],
        delivered_once=outcome["once"],
        attempt_rows=outcome["attempts"],
    )


async def _client_loop(base: str, seconds: float, concurrency: int) -> int:
    body = b'{"type":"referral.submitted","timestamp":"2026-11-22T10:00:00+00:00","data":{}}'
    sent = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def worker(n: int) -> None:
            nonlocal sent
            i = 0
            while time.monotonic() < deadline:
                i += 1
                headers = {"webhook-id": f"msg_{n}_{i}", "content-type": "application/json"}
                await client.post(base + "/hooks", content=body, headers=headers)
                sent += 1

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return sent


def receiver_ceiling(base: str, *, seconds: float = 10, concurrency: int = 32) -> dict[str, object]:
    """The floor of (b): the receiver's own rate with a plain httpx client loop (one process)."""
    httpx.post(base + "/reset", timeout=5.0)
    started = time.monotonic()
    sent = asyncio.run(_client_loop(base, seconds, concurrency))
    elapsed = time.monotonic() - started
    seen = stats(base)
    return {
        "name": f"receiver floor (httpx loop, {concurrency} concurrent)",
        "events_per_s": round(sent / elapsed, 1),
        "drained_s": round(elapsed, 1),
        "arrived": seen["posts"],
        "duplicates": seen["duplicates"],
        "delivered_once": "",
        "attempt_rows": "",
    }
