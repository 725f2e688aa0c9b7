"""The households behind a signal: each signal counts its own; a bundle's total (other teams'
households included) is only ever published after disclosure control; a teammate sees only the linked
households they may open, and cannot unlink the ones they may not. (Households linked in one statement
may share their linked_at, so tests compare them in id order.)"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.domain.unit_of_work.access_log import AccessLogEntry
from tests.signals.support import BASE, Signals


def _sorted(linked: dict[str, Any]) -> dict[str, Any]:
    return {**linked, "household_ids": sorted(linked["household_ids"])}


WITHHELD = {"count": None, "suppressed": "below_threshold", "household_ids": None}


async def test_a_bundle_total_is_protected_and_every_signal_counts_its_own(signals: Signals) -> None:
    ours = [await signals.household() for _ in range(2)]
    theirs = [await signals.household("generalist_b", team="b") for _ in range(2)]
    follower = await signals.submitted("generalist_b", "team_lead_b", household_ids=theirs)
    draft = await signals.draft(household_ids=ours)
    lead = await signals.step(draft, "team_lead_a", "submit", {"bundle": [follower.json()["id"]]})
    assert lead.status_code == 200, lead.text

    # The lead's team: its own two households exactly; the bundle of four only as a protected figure,
    # so no subtraction gives away team b's number.
    assert _sorted(lead.json()["linked_households"]) == {
        "count": 2,
        "suppressed": None,
        "household_ids": sorted(ours),
    }
    assert lead.json()["bundle_households"] == WITHHELD
    # The follower's team sees its own two, not 0; a follower leads no bundle.
    read = (await signals.ok("GET", f"{BASE}/{follower.json()['id']}", "team_lead_b")).json()
    assert _sorted(read["linked_households"]) == {
        "count": 2,
        "suppressed": None,
        "household_ids": sorted(theirs),
    }
    assert read["bundle_households"] is None
    for actor in ("policy_officer", "team_lead_a"):
        seen = (await signals.ok("GET", f"{BASE}/{follower.json()['id']}", actor)).json()
        assert seen["linked_households"] == WITHHELD
        assert not any(h in str(seen) for h in theirs)


def _worker(signals: Signals, name: str) -> uuid.UUID:
    worker = signals.world.people[name].worker
    assert worker is not None
    return worker.id


async def test_a_teammate_never_sees_a_confidential_household_they_are_not_involved_in(
    signals: Signals,
) -> None:
    secret = await signals.household(confidential=True)  # generalist_a coordinates it
    open_ = await signals.household()
    draft = await signals.draft(household_ids=[secret, open_])
    one = f"{BASE}/{draft.json()['id']}"
    assert sorted(draft.json()["linked_households"]["household_ids"]) == sorted([secret, open_])

    read = await signals.ok("GET", one, "generalist_a2")
    assert read.json()["linked_households"] == {"count": 2, "suppressed": None, "household_ids": [open_]}
    assert secret not in read.text
    async with signals.world.app.state.db.transaction() as session:
        logged = await session.scalars(
            select(col(AccessLogEntry.household_id)).where(
                col(AccessLogEntry.actor_worker_id) == _worker(signals, "generalist_a2"),
                col(AccessLogEntry.resource) == "policy_signal",
            )
        )
        assert {str(h) for h in logged} == {open_}  # the confidential one is not logged as read

    # The teammate replaces the links they can see: the coordinator's confidential link stays.
    changed = await signals.send(
        "PATCH", one, "generalist_a2", json={"household_ids": []}, headers={"If-Match": read.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["linked_households"] == {"count": 1, "suppressed": None, "household_ids": []}
    kept = (await signals.ok("GET", one, "generalist_a")).json()["linked_households"]
    assert kept == {"count": 1, "suppressed": None, "household_ids": [secret]}
