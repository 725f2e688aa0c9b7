"""The access log partitioned by month against the same log in one plain table, side by side in one run.

Both tables live in one database of the embedded PostgreSQL: ``access_log`` as migration 0180 makes it
(partitioned by month, its indexes and append-only triggers) and ``access_log_plain``, the 0120 shape
(one table, primary key ``id``, the same indexes and triggers). Each is filled with the same rows by
``generate_series`` (not through the API), spread evenly over ``--months`` months up to now, then:

* fill: the bulk load without keys or indexes (rows/s), then the index build (the primary key and
  five indexes: on the plain table, and on the partitioned parent, which builds them partition by
  partition) and VACUUM ANALYZE, each timed apart; it stops if the disk falls below 8 GB free;
* insert: single-row inserts as the unit of work sends them (one INSERT, one transaction, the moment
  ``now()``) on ``--connections`` connections for ``--seconds`` (rows/s, p50/p99 ms);
* reads (p50/p99 ms over ``--reads`` random households / days): a resident's log (the household's
  last 50 entries), the privacy officer's day (one day's first page of 100 by time), a household's
  month (the entries of one household in one month), and the resident's log as the app reads it
  (``partitions.newest_first``: the last three months first, the older ones only if the page is not
  full);
* retention: removing the oldest month, a DELETE on the plain table (its append-only trigger disabled
  as the owner would) against DETACH + DROP of the partition.

Inserts and reads run ``--rounds`` times, alternating which table goes first.

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
import shutil
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

# The plain table without its keys and indexes: they are built after the fill (``INDEXES``). Its triggers
# fire on UPDATE, DELETE and TRUNCATE only, so they cost the fill nothing and are made at once.
PLAIN = """
CREATE TABLE access_log_plain (LIKE access_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log_plain
    FOR EACH ROW EXECUTE FUNCTION wijkwerk_refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log_plain
    FOR EACH STATEMENT EXECUTE FUNCTION wijkwerk_refuse_change();
"""

# Each table's primary key and indexes, built after its fill: the plain table's as the 0120 shape had
# them, the partitioned one's with migration 0180's names (on the parent, so PostgreSQL builds them
# partition by partition). Maintaining five B-trees row by row (random uuids among them) made the fill
# of earlier runs crawl at 8-13k rows/s; one sorted build per index is how a large log is loaded.
COLUMNS = ("actor_subject", "actor_worker_id", "household_id", "person_id", "occurred_at")
INDEXES = {
    "access_log_plain": [
        "ALTER TABLE access_log_plain ADD CONSTRAINT pk_access_log_plain PRIMARY KEY (id)",
        *(f"CREATE INDEX ix_plain_{column} ON access_log_plain ({column})" for column in COLUMNS),
    ],
    "access_log": [
        "ALTER TABLE access_log ADD CONSTRAINT pk_access_log PRIMARY KEY (id, occurred_at)",
        *(f"CREATE INDEX ix_access_log_{column} ON access_log ({column})" for column in COLUMNS),
    ],
}
# Migration 0180's key and indexes taken off the partitioned table before its fill.
UNINDEX = "ALTER TABLE access_log DROP CONSTRAINT pk_access_log;" + "".join(
    f"DROP INDEX ix_access_log_{column};" for column in COLUMNS
)
# Building an index sorts in memory up to this much; the same for both tables.
MAINTENANCE_WORK_MEM = "1GB"
# Stop before the disk (shared with other work) falls below this.
MIN_FREE_BYTES = 8 * 2**30

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

# The resident's log as the app reads it (``partitions.newest_first``): the recent months first, the
# older ones only when those did not fill the page. $1 household, $2 the recent months' start, $3 limit.
RECENT_FIRST = "resident's log (last 50, recent months first)"
RECENT = (
    "SELECT id, occurred_at, action FROM {table} WHERE household_id = $1 AND occurred_at >= $2"
    " ORDER BY occurred_at DESC, id DESC LIMIT $3"
)
OLDER = RECENT.replace(">= $2", "< $2")
PAGE = 50


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


def check_disk(path: Path) -> None:
    free = shutil.disk_usage(path).free
    if free < MIN_FREE_BYTES:
        raise SystemExit(f"stopping: {free / 2**30:.1f} GB free on {path}, below {MIN_FREE_BYTES // 2**30}")


async def fill(
    pool: asyncpg.Pool, table: str, rows: int, start: datetime, span: float, data: Path
) -> dict[str, float]:
    """Fill without indexes in slices of a million rows (each its own transaction, so one slice's
    memory stays small), then build the key and indexes, then VACUUM ANALYZE; each timed apart."""
    timed: dict[str, float] = {}
    step = 1_000_000
    async with pool.acquire() as connection:
        began = time.perf_counter()
        for offset in range(0, rows, step):
            check_disk(data)
            n = min(step, rows - offset)
            first = start + timedelta(seconds=offset * span / rows)
            await connection.execute(
                FILL.format(table=table, households=HOUSEHOLDS), n, first, n * span / rows
            )
        timed["fill_s"] = time.perf_counter() - began
        began = time.perf_counter()
        await connection.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
        for statement in INDEXES[table]:
            check_disk(data)
            await connection.execute(statement)
        timed["index_s"] = time.perf_counter() - began
        began = time.perf_counter()
        await connection.execute(f"VACUUM ANALYZE {table}")
        timed["vacuum_analyze_s"] = time.perf_counter() - began
    return {name: round(seconds, 1) for name, seconds in timed.items()}


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
        found[RECENT_FIRST] = await recent_first(connection, table, count, months)
    return found


async def recent_first(connection: asyncpg.Connection, table: str, count: int, months: int) -> dict[str, Any]:
    """The resident's log read the app's way, over the same households as the unbounded read."""
    recent = await connection.prepare(RECENT.format(table=table))
    older = await connection.prepare(OLDER.format(table=table))
    since = partitions.recent_start(datetime.now(UTC))
    rng = random.Random(16)
    times, second = [], 0
    for _ in range(count):
        rng.randrange(months * 30)  # the day the unbounded read drew: the same households follow
        who = household(rng.randrange(HOUSEHOLDS))
        began = time.perf_counter()
        rows = await recent.fetch(who, since, PAGE)
        if len(rows) < PAGE:
            second += 1
            rows += await older.fetch(who, since, PAGE - len(rows))
        times.append(time.perf_counter() - began)
    p50, p99 = ms(times)
    return {"p50_ms": p50, "p99_ms": p99, "second_statement": second}


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
    data = ROOT / ".wijkwerk" / "bench-partitions"
    url, server = start_embedded_postgres(data)
    drop_database(server, DATABASE)
    create_database(server, DATABASE)
    url = server.get_uri(DATABASE)
    db = Database(url, settings)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=max(4, args.connections))
    try:
        await upgrade(db.engine)
        await pool.execute(PLAIN)
        await pool.execute(UNINDEX)
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
            timed = await fill(pool, table, args.rows, first, span, data)
            size = await pool.fetchval(SIZE, table)
            result[table] = {
                **timed,
                "fill_rows_per_s": round(args.rows / timed["fill_s"]),
                "size_mb": round(int(size) / 2**20),
                "free_disk_gb": round(shutil.disk_usage(data).free / 2**30, 1),
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
        if not args.keep:
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
    parser.add_argument("--keep", action="store_true", help="keep the database (drop it yourself)")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
