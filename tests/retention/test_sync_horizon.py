"""Purging the change feed moves the sync horizon: a phone whose cursor predates purged changes starts
afresh (``reset: true``) instead of silently missing them; a cursor issued after the purge does not."""

from __future__ import annotations

from app.domain.retention.rules import Category
from app.domain.retention.service import purge
from app.domain.unit_of_work.change_feed import CaseChange
from tests.households.support import households, sync_all
from tests.retention.support import MARGIN, Estate


async def test_a_cursor_older_than_the_horizon_resets(estate: Estate) -> None:
    home = await estate.household()
    world, client = estate.world, estate.client
    first = await sync_all(client, world, "generalist_a")
    assert str(home.id) in households(first)
    quiet = await sync_all(client, world, "generalist_a", first["cursor"])
    assert not quiet["reset"]  # without a purge the cursor stays good

    # A change after that cursor, then aged past the horizon and purged: the phone never saw it.
    seq, txid = await estate.change_row(home.id, await estate.cutoff(Category.change_feed) - MARGIN)
    report = await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert report.change_feed_horizon is not None and report.change_feed_horizon >= txid
    assert not await estate.exists(CaseChange, seq)

    after = await sync_all(client, world, "generalist_a", quiet["cursor"])
    assert after["reset"] and str(home.id) in households(after)  # wiped and sent everything again
    fresh = await sync_all(client, world, "generalist_a", after["cursor"])
    assert not fresh["reset"]  # a cursor from after the purge is above the horizon
