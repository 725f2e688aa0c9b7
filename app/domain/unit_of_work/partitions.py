"""The monthly partitions of the append-only tables: the access log and the change feed.

Both are range-partitioned by month (UTC) of their moment (migration 0180), with a default partition
for rows outside every month made so far. Two jobs look after them:

* ``maintain`` (``wijkwerk partitions maintain``, and at start-up in ``serve``) makes the current
  month and the next ``months_ahead`` before rows arrive, so the default partition stays empty. A
  month whose rows already sit in the default partition (maintenance did not run in time) is left
  there and reported: moving them would mean deleting from the append-only log.
* ``remove_before`` (the purge, ``app.domain.retention``) detaches every month that lies wholly before
  a boundary and drops it, or keeps it as a table of its own in the ``archive`` schema: one DDL
  statement per month instead of a DELETE of millions of rows.

The access log's TRUNCATE trigger is statement level, which PostgreSQL does not clone onto partitions,
so each partition made here gets its own; the row trigger (UPDATE, DELETE) is cloned by PostgreSQL.
An archived month keeps both: it stays append-only outside the partitioned table too.

Reading a household's log newest first (``newest_first``) asks the recent months first: a statement
bounded below by its partition key touches only those months' partitions, where an unbounded one
probes every month kept (28 with two years and three ahead) to find a page that the last months
usually fill.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

ARCHIVE_SCHEMA = "archive"
# Any constant shared by every Wijkwerk process: one maintenance or removal at a time.
PARTITIONS_LOCK_KEY = 0x5A17_9A27
# DDL on a partitioned table waits for the queries on it; rather fail than queue every request behind.
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class Partitioned:
    """A table partitioned by month of ``key``; ``append_only`` when the access log's triggers guard it."""

    table: str
    key: str
    append_only: bool

    def name(self, month: datetime) -> str:
        return f"{self.table}_p{month:%Y_%m}"

    @property
    def default(self) -> str:
        return f"{self.table}_default"


ACCESS_LOG = Partitioned("access_log", "occurred_at", append_only=True)
CHANGE_FEED = Partitioned("case_changes", "changed_at", append_only=False)
TABLES = (ACCESS_LOG, CHANGE_FEED)

_MONTHLY = re.compile(r"^(?P<table>access_log|case_changes)_p(?P<year>\d{4})_(?P<month>\d{2})$")


def is_partition(name: str) -> bool:
    """A partition made by the migration or the jobs (not a table of the models: Alembic skips it)."""
    return _MONTHLY.match(name) is not None or name in {t.default for t in TABLES}


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the month that holds ``moment``."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def previous_month(month: datetime) -> datetime:
    return datetime(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1, tzinfo=UTC)


def coming_months(now: datetime, ahead: int) -> list[datetime]:
    """This month and the ``ahead`` months after it."""
    months = [month_start(now)]
    for _ in range(ahead):
        months.append(next_month(months[-1]))
    return months


@dataclass(frozen=True)
class Month:
    """One monthly partition that exists: its name and range [start, end)."""

    name: str
    start: datetime

    @property
    def end(self) -> datetime:
        return next_month(self.start)


@dataclass
class Maintained:
    """What ``maintain`` did: partitions made, and months left in the default partition."""

    created: list[str] = field(default_factory=list)
    in_default: list[str] = field(default_factory=list)


async def _serialise(session: AsyncSession) -> None:
    await session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(PARTITIONS_LOCK_KEY)))


async def months(session: AsyncSession, table: Partitioned) -> list[Month]:
    """The monthly partitions ``table`` has now, oldest first."""
    rows = await session.execute(
        sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": table.table},
    )
    found = []
    for (name,) in rows:
        match = _MONTHLY.match(name)
        if match is not None:
            found.append(Month(name, datetime(int(match["year"]), int(match["month"]), 1, tzinfo=UTC)))
    return sorted(found, key=lambda m: m.start)


async def _in_default(session: AsyncSession, table: Partitioned, month: datetime) -> bool:
    statement = sa.text(
        f"SELECT EXISTS (SELECT 1 FROM {table.default} WHERE {table.key} >= :start AND {table.key} < :end)"  # noqa: S608 - our names
    )
    return bool(await session.scalar(statement, {"start": month, "end": next_month(month)}))


async def _guard(session: AsyncSession, table: Partitioned, name: str) -> None:
    """The access log's TRUNCATE trigger on a partition of its own (statement triggers are not cloned)."""
    if table.append_only:
        await session.execute(
            sa.text(
                f"CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON {name}"
                " FOR EACH STATEMENT EXECUTE FUNCTION wijkwerk_refuse_change()"
            )
        )


async def create_month(session: AsyncSession, table: Partitioned, month: datetime) -> str:
    """Make the partition of ``month`` (which must not exist and have no rows in the default)."""
    name = table.name(month)
    # Bounds are our own UTC instants; DDL takes no parameters.
    await session.execute(
        sa.text(
            f"CREATE TABLE {name} PARTITION OF {table.table}"
            f" FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"
        )
    )
    await _guard(session, table, name)
    return name


async def maintain(session: AsyncSession, ahead: int, now: datetime | None = None) -> Maintained:
    """Make the partitions of this month (by the database's clock, unless ``now`` is given) and the
    ``ahead`` next ones where missing. Idempotent; one run at a time."""
    await _serialise(session)
    if now is None:
        now = await session.scalar(sa.select(sa.func.now()))
        assert now is not None
    done = Maintained()
    for table in TABLES:
        existing = {m.start for m in await months(session, table)}
        for month in coming_months(now, ahead):
            if month in existing:
                continue
            if await _in_default(session, table, month):
                done.in_default.append(table.name(month))
                continue
            done.created.append(await create_month(session, table, month))
    return done


async def rows_in(session: AsyncSession, name: str) -> int:
    return int(await session.scalar(sa.text(f"SELECT count(*) FROM {name}")) or 0)  # noqa: S608 - our names


async def remove_before(
    session: AsyncSession, table: Partitioned, boundary: datetime, *, archive: bool = False
) -> dict[str, int]:
    """Detach every month of ``table`` that ends at or before ``boundary``, then drop it (or, with
    ``archive``, move it to the ``archive`` schema). Returns the rows each month held."""
    await _serialise(session)
    removed: dict[str, int] = {}
    for month in await months(session, table):
        if month.end > boundary:
            break
        removed[month.name] = await rows_in(session, month.name)
        await session.execute(sa.text(f"ALTER TABLE {table.table} DETACH PARTITION {month.name}"))
        if archive:
            await _archive(session, table, month.name)
        else:
            await session.execute(sa.text(f"DROP TABLE {month.name}"))
    return removed


async def _archive(session: AsyncSession, table: Partitioned, name: str) -> None:
    await session.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}"))
    await session.execute(sa.text(f"ALTER TABLE {name} SET SCHEMA {ARCHIVE_SCHEMA}"))
    if table.append_only:
        # Detaching removed the cloned row trigger; the month stays append-only in the archive.
        await session.execute(
            sa.text(
                f"CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON {ARCHIVE_SCHEMA}.{name}"
                " FOR EACH ROW EXECUTE FUNCTION wijkwerk_refuse_change()"
            )
        )


# -- reading newest first ------------------------------------------------------------------------------

# The months a newest-first page reads first: the one it starts in and the two before.
RECENT_MONTHS = 3

# Reads up to ``limit`` rows, newest first, of those that also meet the bound on the partition key.
BoundedRead = Callable[[sa.ColumnElement[bool], int], Awaitable[list[Any]]]


def recent_start(upper: datetime) -> datetime:
    """The start of the ``RECENT_MONTHS`` months that end with the month of ``upper``."""
    month = month_start(upper)
    for _ in range(RECENT_MONTHS - 1):
        month = previous_month(month)
    return month


async def newest_first(
    read: BoundedRead, key: Any, *, limit: int, upper: datetime, lower: datetime | None = None
) -> list[Any]:
    """A newest-first page of at most ``limit`` rows whose ``key`` lies at or before ``upper`` (the
    page's cursor, the reader's own upper bound, or now): first from the recent months (``key >=
    start``, so PostgreSQL prunes the older partitions), then, only when they did not fill the page and
    the reader's ``lower`` bound leaves older rows to find, from the older months (``key < start``).
    The two bounds split time in two, so no row is read twice or left out; a row written between the
    two statements is newer than both and belongs to a later request."""
    start = recent_start(upper)
    rows = await read(key >= start, limit)
    if len(rows) < limit and (lower is None or lower < start):
        rows += await read(key < start, limit - len(rows))
    return rows
