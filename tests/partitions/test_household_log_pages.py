"""A household's log read newest first (the team's file log, the member's own view, the privacy
officer's list) asks the recent months first (``partitions.newest_first``): a page the last three
months fill is one statement whose plan holds only those months' partitions; a page they leave short
reads the older months in a second statement, which holds none of the recent ones; and a later page
(a cursor) leaves out every month after its cursor. Paging through gives every row once, newest first,
across the boundary. Plans are PostgreSQL's own (EXPLAIN of the statements the reads sent, with their
parameters); no time is measured."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.domain.audit import repository as audit
from app.domain.audit.schemas import AuditFilters
from app.domain.self_service import repository as self_service
from app.domain.unit_of_work import partitions
from app.migrations import upgrade

MONTHS = 12  # of log kept in monthly partitions, this one included
INSERT = sa.text(
    "INSERT INTO access_log (id, occurred_at, actor_subject, actor_role, client_id, household_id,"
    " resource, action, purpose, outcome)"
    " SELECT gen_random_uuid(), CAST(:at AS timestamptz) - make_interval(mins => i), 'worker-1',"
    " 'generalist', 'team-app', :household, 'household', 'read', 'casework', 'allowed'"
    " FROM generate_series(1, :rows) AS i"
)


@dataclass
class Sent:
    """One statement a read sent, with its parameters as the driver got them."""

    sql: str
    parameters: Any


@pytest.fixture
async def log(scratch: Database) -> AsyncIterator[Database]:
    """A migrated database whose access log has monthly partitions for the last ``MONTHS`` months."""
    await upgrade(scratch.engine)
    async with scratch.transaction() as session:
        existing = {m.start for m in await partitions.months(session, partitions.ACCESS_LOG)}
        for month in _months():
            if month not in existing:
                await partitions.create_month(session, partitions.ACCESS_LOG, month)
    yield scratch


def _months() -> list[datetime]:
    """The last ``MONTHS`` months, newest first."""
    months = [partitions.month_start(datetime.now(UTC))]
    while len(months) < MONTHS:
        months.append(partitions.previous_month(months[-1]))
    return months


async def _rows(db: Database, household: uuid.UUID, per_month: dict[datetime, int]) -> None:
    """``per_month[m]`` rows about ``household``, a minute apart, before the 15th of month ``m`` (this
    month: before now, or the month's first day has passed)."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        for month, rows in per_month.items():
            at = max(now, month + timedelta(days=1)) if month == _months()[0] else month + timedelta(days=15)
            await session.execute(INSERT, {"at": at, "household": household, "rows": rows})


@contextmanager
def sent(db: Database) -> Iterator[list[Sent]]:
    statements: list[Sent] = []

    def record(connection: Any, cursor: Any, sql: str, parameters: Any, *rest: Any) -> None:
        if "access_log" in sql:
            statements.append(Sent(sql, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def scanned(session: AsyncSession, statement: Sent) -> set[str]:
    """The access-log partitions the plan of ``statement`` (run with its parameters) reads."""
    connection = await (await session.connection()).get_raw_connection()
    driver = connection.driver_connection
    assert driver is not None
    plan = await driver.fetchval(f"EXPLAIN (FORMAT JSON) {statement.sql}", *statement.parameters)
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        name = node.get("Relation Name", "")
        if name.startswith("access_log_"):
            found.add(name)
        for child in node.get("Plans", []):
            walk(child)

    # The app's connections decode json themselves (a codec of theirs); a bare one gives text.
    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return found


def names(months: list[datetime]) -> set[str]:
    return {partitions.ACCESS_LOG.name(m) for m in months}


async def test_a_page_the_recent_months_fill_reads_only_their_partitions(log: Database) -> None:
    household = uuid.uuid4()
    months = _months()
    await _rows(log, household, dict.fromkeys(months, 20))
    async with log.transaction() as session:
        with sent(log) as statements:
            page = await audit.file_entries(session, household, limit=51, after=None)
        assert len(page) == 51 and [r["occurred_at"] for r in page] == sorted(
            (r["occurred_at"] for r in page), reverse=True
        )
        [statement] = statements  # 60 rows in the last three months: one statement
        read = await scanned(session, statement)
    recent = names(months[:3])
    assert recent <= read
    assert not read & names(months[3:])  # no month before the recent three is probed


async def test_a_short_page_reads_the_older_months_in_a_second_statement(log: Database) -> None:
    household = uuid.uuid4()
    months = _months()
    await _rows(log, household, {months[0]: 2, months[5]: 3, months[11]: 4})
    async with log.transaction() as session:
        with sent(log) as statements:
            page = await audit.file_entries(session, household, limit=51, after=None)
        assert len(page) == 9
        assert [r["occurred_at"] for r in page] == sorted((r["occurred_at"] for r in page), reverse=True)
        recent, older = statements
        recent_read, older_read = await scanned(session, recent), await scanned(session, older)
    assert not recent_read & names(months[3:])
    assert names(months[3:]) <= older_read and not older_read & names(months[:3])


async def test_a_later_page_leaves_out_the_months_after_its_cursor(log: Database) -> None:
    household = uuid.uuid4()
    months = _months()
    await _rows(log, household, dict.fromkeys(months, 5))
    async with log.transaction() as session:
        first = await audit.file_entries(session, household, limit=32, after=None)
        cursor = (first[30]["occurred_at"], first[30]["id"])  # in the seventh month back
        with sent(log) as statements:
            await audit.file_entries(session, household, limit=11, after=cursor)
        reads = [await scanned(session, s) for s in statements]
    assert len(reads) == 1  # the cursor's month and the two before hold 15 rows: one statement
    assert not reads[0] & names(months[:6])  # newer than the cursor: not probed
    assert not reads[0] & names(months[9:])  # older than its recent months: not probed


async def page_through(read: Any, size: int) -> list[Any]:
    rows: list[Any] = []
    after = None
    while True:
        page = await read(size + 1, after)
        rows += page[:size]
        if len(page) <= size:
            return rows
        after = (page[size - 1]["occurred_at"], page[size - 1]["id"])


async def test_paging_gives_every_row_once_newest_first_across_the_boundary(log: Database) -> None:
    household, member = uuid.uuid4(), uuid.uuid4()
    months = _months()
    await _rows(log, household, {months[0]: 4, months[2]: 3, months[3]: 5, months[8]: 6})
    async with log.transaction() as session:
        expected = [
            r.id
            for r in await session.execute(
                sa.text(
                    "SELECT id FROM access_log WHERE household_id = :h ORDER BY occurred_at DESC, id DESC"
                ),
                {"h": household},
            )
        ]
        about = self_service.about(member, household, with_children=False, own_subject="resident")
        readers = {
            "file log": lambda n, after: audit.file_entries(session, household, limit=n, after=after),
            "member's view": lambda n, after: self_service.access_rows(
                session, household, about, limit=n, after=after
            ),
            "officer's list": lambda n, after: audit.entries(
                session, AuditFilters(household_id=household), limit=n, after=after
            ),
        }
        for size in (1, 4, 7, 50):
            for name, read in readers.items():
                shown = [r["id"] for r in await page_through(read, size)]
                assert shown == expected, (name, size)
    assert len(expected) == 18
