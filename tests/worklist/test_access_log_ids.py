"""The access log's ids are time-ordered (version 7), so its primary key grows at its end: the rows a
worklist page writes (one per household shown, made by the statement) and the entries a unit of work
queues alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlmodel import col

from app.domain.unit_of_work import access_log
from app.domain.unit_of_work.access_log import AccessEntry, AccessLogEntry, ordered_id
from tests.factories import World
from tests.worklist.support import Team, days_later, now_iso


def _millis(value: uuid.UUID) -> int:
    return value.int >> 80


def _epoch_millis(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def test_an_entrys_id_is_version_7_and_later_ids_sort_after_earlier_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The clock the ids read, stepped by the test (not the machine's): two ids in one millisecond,
    # then later ones.
    steps = iter(ms * 1_000_000 + 123 for ms in (1_765_000_000_000, 1_765_000_000_000, 1_765_000_000_001))
    monkeypatch.setattr(
        access_log, "time", SimpleNamespace(time_ns=lambda: next(steps, 1_765_000_060_000_000_000))
    )
    first = AccessEntry("s", "generalist", None, "app", None, "worklist", "list").id
    later = [ordered_id() for _ in range(50)]
    assert [_millis(i) for i in (first, *later[:3])] == [
        1_765_000_000_000,
        1_765_000_000_000,
        1_765_000_000_001,
        1_765_000_060_000,
    ]
    assert {first.version, *(i.version for i in later)} == {7}
    assert {first.variant, *(i.variant for i in later)} == {uuid.RFC_4122}
    assert len({first, *later}) == 1 + len(later)  # unique within a millisecond by their random bits
    # An id of a later millisecond sorts after every earlier one.
    assert first < later[1] < later[2] and later[0] < later[1]


@pytest.fixture
async def team(world: World, client: httpx.AsyncClient, tmp_path: Path) -> Team:
    return await Team.start(world, client, tmp_path)


async def test_the_rows_a_worklist_page_writes_have_ids_of_the_time_they_were_written(team: Team) -> None:
    households = []
    for number in (12, 14):
        body = {**team.address(number), "first_contact": {"kind": "phone", "occurred_at": now_iso()}}
        households.append((await team.ok("POST", "/api/v1/households", json=body))["id"])
    with days_later(30):
        await team.worklist()
    async with team.world.app.state.db.transaction() as session:
        after = _epoch_millis((await session.execute(select(sa.func.clock_timestamp()))).scalar_one())
        rows = (
            await session.execute(
                select(col(AccessLogEntry.id), col(AccessLogEntry.occurred_at)).where(
                    col(AccessLogEntry.resource) == "worklist",
                    col(AccessLogEntry.household_id).in_(households),
                )
            )
        ).all()
    assert len(rows) == 2 and rows[0].id != rows[1].id
    for row in rows:
        assert row.id.version == 7 and row.id.variant == uuid.RFC_4122
        # The id's milliseconds are the database's clock when it wrote the row: no earlier than its
        # transaction's start (occurred_at is now()), no later than the database's clock afterwards.
        assert _epoch_millis(row.occurred_at) <= _millis(row.id) <= after
