"""The access log partitioned by month against the same log in one plain table, side by side in one run.

Both tables live in one database of the embedded PostgreSQL: ``access_log`` as migration 0180 makes it
(partitioned by month, its indexes and append-only triggers) and ``access_log_plain``, the 0120 shape
(one table, primary key ``id``, the same indexes and triggers). Each is filled with the same rows by
``generate_series`` (not through the API), spread evenly over ``--months`` months up to now, then:

* fill: the bulk load itself (rows/s, indexes maintained as they go);
Inserts and reads run ``--rounds`` times, alternating which table goes first.

* insert: single-row inserts as the unit of work sends them (one INSERT, one transaction, the moment
  ``now()``) on ``--connections`` connections for ``--seconds`` (rows/s, p50/p99 ms);
* reads (p50/p99 ms over ``--reads`` random households / days): a resident's log (the household's
  last 50 entries), the privacy officer's day (one day's first page of 100 by time), a household's
  month (the entries of one household in one month);
* retention: removing the oldest month, a DELETE on the plain table (its append-only trigger disabled
  as the owner would) against DETACH + DROP of the partition.

    .venv/bin/python -m bench.partitions.run --rows 5000000 --rounds 1
    .venv/bin/python -m bench.partitions.run --rows 2000000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from app.db import Database
from app.domain.unit_of_work import partitions
from app.embedded import create_database, drop_database, start_embedded_postgres
from app.migrations import upgrade
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
DATABASE = "bench_partitions"
HOUSEHOLDS = 100_000

PLAIN = """
CREATE TABLE access_log_plain (LIKE access_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE access_log_plain ADD CONSTRAINT pk_access_log_plain PRIMARY KEY (id);
CREATE INDEX ix_plain_actor_subject ON access_log_plain (actor_subject);
CREATE INDEX ix_plain_actor_worker_id ON access_log_plain (actor_worker_id);
CREATE INDEX ix_plain_household_id ON access_log_plain (household_id);
CREATE INDEX ix_plain_person_id ON access_log_plain (person_id);
CREATE INDEX ix_plain_occurred_at ON access_log_plain (occurred_at);
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log_plain
    FOR EACH ROW EXECUTE FUNCTION wijkwerk_refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log_plain
    FOR EACH STATEMENT EXECUTE FUNCTION wijkwerk_refuse_change();
"""

# $1 rows, $2 first moment, $3 seconds spanned. Rows in time order, as a log grows.
FILL = """
INSERT INTO {table} (id, occurred_at, actor_subject, actor_role, actor_worker_id, client_id,
    organisation_id, household_id, person_id, resource, resource_id, action, purpose, outcome)
SELECT gen_random_uuid(), $2::timestamptz + make_interval(secs => i::float8 * $3 / $1),
    'worker-' || (i % 500), 'generalist', md5('w' || (i % 500))::uuid, 'team-app', NULL,
    md5('h' || (i::bigint * 7919 % {households}))::uuid, NULL, 'household', NULL, 'read', 'casework',
    'allowed'
FROM generate_series(1, $1) AS i
"""

INSERT = """
INSERT INTO {table} (id, actor_subject, actor_role, actor_worker_id, client_id, household_id, resource,
    action, purpose, outcome)
VALUES ($1, 'worker-1', 'generalist', $2, 'team-app', $3, 'household', 'read', 'casework', 'allowed')
"""

READS = {
    "resident's log (last 50)": (
        "SELECT id, occurred_at, action FROM {table} WHERE household_id = $1"
        " ORDER BY occurred_at DESC, id DESC LIMIT 50"
    ),
    "officer's day (first 100)": (
        "SELECT id, occurred_at, actor_subject FROM {table} WHERE occurred_at >= $1"
        " AND occurred_at < $1 + interval '1 day'"
        " ORDER BY occurred_at, id LIMIT 100"
    ),
    "household's month": (
        "SELECT count(*) FROM {table} WHERE household_id = $1 AND occurred_at >= $2"
        " AND occurred_at < $2 + interval '1 month'"
    ),
}


# Bytes of a table with its indexes (and its partitions').
SIZE = """
SELECT pg_total_relation_size($1::regclass)
    + coalesce((SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits
                WHERE inhparent = $1::regclass), 0)
"""


def household(n: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"h{n}".encode()).hexdigest())  # noqa: S324 - a test id, not security


def ms(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return round(statistics.median(values) * 1000, 2), round(values[int(len(values) * 0.99) - 1] * 1000, 2)


async def fill(pool: asyncpg.Pool, table: str, rows: int, start: datetime, span: float) -> float:
    """Fill in slices of a million rows (each its own transaction), so one slice's memory stays small."""
    began = time.perf_counter()
    step = 1_000_000
    async with pool.acquire() as connection:
        for offset in range(0, rows, step):
            n = min(step, rows - offset)
            first = start + timedelta(seconds=offset * span / rows)
            await connection.execute(
                FILL.format(table=table, households=HOUSEHOLDS), n, first, n * span / rows
            )
        await connection.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - began


async def inserts(pool: asyncpg.Pool, table: str, connections: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    statement = INSERT.format(table=table)

    async def client() -> None:
        async with pool.acquire() as connection:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                await connection.execute(
                    statement, uuid.uuid4(), uuid.uuid4(), household(random.randrange(HOUSEHOLDS))
                )
                latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(client() for _ in range(connections)))
    p50, p99 = ms(latencies)
    return {"rows_per_s": round(len(latencies) / seconds), "p50_ms": p50, "p99_ms": p99}


async def reads(pool: asyncpg.Pool, table: str, count: int, start: datetime, months: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    rng = random.Random(16)  # the same households and days for both tables
    async with pool.acquire() as connection:
        for name, sql in READS.items():
            statement = await connection.prepare(sql.format(table=table))
            times = []
            for _ in range(count):
                day = start + timedelta(days=rng.randrange(months * 30))
                args: list[Any] = [household(rng.randrange(HOUSEHOLDS)), day]
                if "household_id" not in sql:
                    args = [day]
                elif "$2" not in sql:
                    args = args[:1]
                began = time.perf_counter()
                await statement.fetch(*args)
                times.append(time.perf_counter() - began)
            p50, p99 = ms(times)
            found[name] = {"p50_ms": p50, "p99_ms": p99}
    return found


async def remove_oldest_month(
    db: Database, pool: asyncpg.Pool, table: str, first: datetime
) -> dict[str, Any]:
    end = partitions.next_month(first)
    began = time.perf_counter()
    if table == "access_log":
        async with db.transaction() as session:
            removed = sum((await partitions.remove_before(session, partitions.ACCESS_LOG, end)).values())
    else:
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER access_log_append_only")
            status = await connection.execute(f"DELETE FROM {table} WHERE occurred_at < $1", end)
            await connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER access_log_append_only")
            removed = int(status.split()[-1])
    return {"rows": removed, "seconds": round(time.perf_counter() - began, 2)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(statement_timeout_ms=0)
    url, server = start_embedded_postgres(ROOT / ".wijkwerk" / "bench-partitions")
    drop_database(server, DATABASE)
    create_database(server, DATABASE)
    url = server.get_uri(DATABASE)
    db = Database(url, settings)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=max(4, args.connections))
    try:
        await upgrade(db.engine)
        await pool.execute(PLAIN)
        now = datetime.now(UTC)
        first = partitions.month_start(now)
        for _ in range(args.months - 1):
            first = partitions.month_start(first - timedelta(days=1))
        async with db.transaction() as session:
            await partitions.maintain(session, 3)
            month = first
            while month < partitions.month_start(now):
                await partitions.create_month(session, partitions.ACCESS_LOG, month)
                month = partitions.next_month(month)
        span = (now - first).total_seconds()
        result: dict[str, Any] = {"rows": args.rows, "months": args.months, "load_before": os.getloadavg()}
        for table in ("access_log_plain", "access_log"):
            seconds = await fill(pool, table, args.rows, first, span)
            size = await pool.fetchval(SIZE, table)
            result[table] = {
                "fill_s": round(seconds, 1),
                "fill_rows_per_s": round(args.rows / seconds),
                "size_mb": round(int(size) / 2**20),
            }
            print(json.dumps({table: result[table], "load": os.getloadavg()}), flush=True)
        # Rounds alternate which table goes first, so neither always runs on the busier moment.
        for round_ in range(args.rounds):
            order = (
                ("access_log_plain", "access_log") if round_ % 2 == 0 else ("access_log", "access_log_plain")
            )
            for table in order:
                measured = {
                    "insert": await inserts(pool, table, args.connections, args.seconds),
                    "reads": await reads(pool, table, args.reads, first, args.months),
                    "load": os.getloadavg()[0],
                }
                result[table].setdefault("rounds", []).append(measured)
                print(json.dumps({table: measured}), flush=True)
        for table in ("access_log_plain", "access_log"):
            result[table]["remove_oldest_month"] = await remove_oldest_month(db, pool, table, first)
        result["load_after"] = os.getloadavg()
        return result
    finally:
        await pool.close()
        await db.dispose()
        drop_database(server, DATABASE)
        server.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
