"""The purge removes whole months of the partitioned tables: a month wholly before the cutoff is
detached and dropped (the access log's archived, unless told to drop), the month holding the cutoff
stays whole. Nothing is deleted row by row from a monthly partition."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.domain.retention.rules import Category
from app.domain.retention.service import purge
from app.domain.unit_of_work import partitions
from app.domain.unit_of_work.change_feed import CaseChange
from tests.retention.support import Estate

INSERT_LOG = sa.text(
    "INSERT INTO access_log (id, occurred_at, actor_subject, actor_role, client_id, resource, action,"
    " purpose, outcome) VALUES (:id, :at, 'tester', 'generalist', 'app', 'household', 'read', 'casework',"
    " 'allowed')"
)


async def _month(estate: Estate, table: partitions.Partitioned, month: datetime) -> str:
    """The partition of ``month``, made if missing (the migration made this month's and later)."""
    async with estate.db.transaction() as session:
        if month not in {m.start for m in await partitions.months(session, table)}:
            await partitions.create_month(session, table, month)
    return table.name(month)


async def _relation(estate: Estate, name: str) -> str | None:
    """Where a table called ``name`` lives now (its schema), or None."""
    async with estate.db.transaction() as session:
        return await session.scalar(
            sa.text(
                "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relname = :name"
            ),
            {"name": name},
        )


async def test_change_feed_months_before_the_cutoff_are_dropped_whole(estate: Estate) -> None:
    cutoff = await estate.cutoff(Category.change_feed)  # a month start
    old_month = partitions.month_start(cutoff - timedelta(days=1))
    old = await _month(estate, partitions.CHANGE_FEED, old_month)
    household = uuid.uuid4()
    old_seq, old_txid = await estate.change_row(household, old_month + timedelta(days=3))
    kept_seq, _ = await estate.change_row(
        household, cutoff + timedelta(hours=1)
    )  # past term by days, not by month

    report = await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert await _relation(estate, old) is None  # the partition is gone, not emptied
    assert not await estate.exists(CaseChange, old_seq)
    assert await estate.exists(CaseChange, kept_seq)
    assert report.counts[Category.change_feed] >= 1
    assert report.change_feed_horizon is not None and report.change_feed_horizon >= old_txid


@pytest.mark.parametrize("archive", [True, False])
async def test_access_log_months_past_their_term_are_archived_or_dropped(
    estate: Estate, archive: bool
) -> None:
    settings = estate.settings.model_copy(
        update={"retention_access_log_days": 365, "retention_access_log_archive": archive}
    )
    now = await estate.now()
    cutoff = partitions.month_start(now - timedelta(days=365))
    month = partitions.month_start(cutoff - timedelta(days=40 if archive else 70))  # one per case
    name = await _month(estate, partitions.ACCESS_LOG, month)
    entry, kept = uuid.uuid4(), uuid.uuid4()
    async with estate.db.transaction() as session:
        await session.execute(INSERT_LOG, {"id": entry, "at": month + timedelta(days=2)})
        await session.execute(INSERT_LOG, {"id": kept, "at": now})

    dry = await purge(estate.db, settings, estate.wiring, actor="test", dry_run=True)
    assert dry.counts[Category.access_log] >= 1
    report = await purge(estate.db, settings, estate.wiring, actor="test")
    assert report.counts[Category.access_log] >= 1

    async with estate.db.transaction() as session:
        logged = set(
            (
                await session.execute(
                    sa.text("SELECT id FROM access_log WHERE id IN (:a, :b)"), {"a": entry, "b": kept}
                )
            ).scalars()
        )
    assert logged == {kept}
    if not archive:
        assert await _relation(estate, name) is None
        return
    assert await _relation(estate, name) == partitions.ARCHIVE_SCHEMA
    archived = f"{partitions.ARCHIVE_SCHEMA}.{name}"
    async with estate.db.transaction() as session:
        assert (
            await session.scalar(sa.text(f"SELECT count(*) FROM {archived} WHERE id = :id"), {"id": entry})
            == 1
        )
    for statement in (
        f"DELETE FROM {archived}",
        f"UPDATE {archived} SET outcome = 'denied'",
        f"TRUNCATE {archived}",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with estate.db.transaction() as session:
                await session.execute(sa.text(statement))


async def test_without_a_term_the_access_log_is_kept(estate: Estate) -> None:
    assert estate.settings.retention_access_log_days is None
    report = await purge(estate.db, estate.settings, estate.wiring, actor="test", dry_run=True)
    assert Category.access_log not in report.counts
