"""The worklist offline (sync entity ``worklist``): a phone lists a household's due items by its own
calendar without syncing, gets the worklist again when anything of the household changes, never gets
one it may not hold, and a sync page costs the same statements however many worklists it carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from app.domain.unit_of_work.access_log import AccessLogEntry
from tests.factories import World
from tests.households.support import settle, sync_all
from tests.self_service.support import account, make_home
from tests.support.statements import counting_statements
from tests.worklist.support import Team, days_later, listed_on, now_iso, today, worklist_items

WORKLIST = "worklist"


@pytest.fixture
async def team(world: World, client: httpx.AsyncClient, tmp_path: Path) -> Team:
    return await Team.start(world, client, tmp_path)


async def _household(team: Team, actor: str = "generalist_a", **fields: object) -> str:
    """An intake with its first contact today: the contact gap is due four weeks on."""
    body = {**team.address(), "first_contact": {"kind": "phone", "occurred_at": now_iso()}, **fields}
    return str((await team.ok("POST", "/api/v1/households", actor, json=body))["id"])


async def _sync(team: Team, actor: str = "generalist_a", cursor: str | None = None) -> dict[str, Any]:
    return await sync_all(team.client, team.world, actor, cursor)


def _kinds(items: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    return [(item["kind"], item["overdue"]) for item in items]


async def _rest(team: Team, household: str, actor: str = "generalist_a") -> list[dict[str, Any]]:
    items = await worklist_items(team.client, team.world, actor)
    return [item for item in items if item["household_id"] == household]


async def _sync_entries(team: Team, household: str) -> int:
    async with team.world.app.state.db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AccessLogEntry)
            .where(col(AccessLogEntry.household_id) == household, col(AccessLogEntry.action) == "sync")
        )
    return int(count or 0)


async def test_time_alone_sends_nothing_the_phone_lists_the_due_item_by_its_calendar(team: Team) -> None:
    household = await _household(team)
    synced = await _sync(team)
    document = synced["upserts"][(WORKLIST, household)]["data"]
    assert _kinds(listed_on(document, today())) == []  # the contact gap is not listed yet
    for days, listed in ((20, [("no_contact", False)]), (30, [("no_contact", True)])):
        with days_later(days):
            later = await _sync(team, cursor=synced["cursor"])
            assert (WORKLIST, household) not in later["upserts"]  # nothing changed: nothing sent
            offline = listed_on(document, today())
            assert _kinds(offline) == listed
            assert offline == await _rest(team, household)  # what the route lists that day


async def test_a_change_of_the_household_sends_its_worklist_again_and_logs_it(team: Team) -> None:
    household, untouched = await _household(team), await _household(team)
    synced = await _sync(team)
    logged = await _sync_entries(team, household), await _sync_entries(team, untouched)
    with days_later(30):
        contact = {"kind": "home_visit", "occurred_at": now_iso()}
        await team.ok("POST", f"/api/v1/households/{household}/contacts", json=contact)
        later = await _sync(team, cursor=synced["cursor"])
        document = later["upserts"][(WORKLIST, household)]["data"]
        assert (WORKLIST, untouched) not in later["upserts"]
        assert listed_on(document, today()) == await _rest(team, household) == []
        [gap] = [item for item in document["items"] if item["kind"] == "no_contact"]
        assert gap["due_on"] == today(28).isoformat()
        assert gap["detail"]["last_contact_on"] == today().isoformat()
    after = await _sync_entries(team, household), await _sync_entries(team, untouched)
    assert after == (logged[0] + 1, logged[1])  # the page's row of the household it carried


async def test_a_closed_household_leaves_no_worklist_on_the_phone(team: Team) -> None:
    household = await _household(team)
    synced = await _sync(team)
    assert (WORKLIST, household) in synced["upserts"]
    current = await team.ok("GET", f"/api/v1/households/{household}")
    closing = {"status": "closed", "closing_reason": "other", "expected_version": current["version"]}
    await team.ok("PATCH", f"/api/v1/households/{household}", json=closing)
    later = await _sync(team, cursor=synced["cursor"])
    assert (WORKLIST, household) in later["tombstones"]
    assert (WORKLIST, household) not in later["upserts"]


async def test_a_confidential_households_worklist_is_only_on_the_involved_workers_phones(team: Team) -> None:
    household = await _household(team, confidential=True)
    key = (WORKLIST, household)
    assert key in (await _sync(team, "generalist_a"))["upserts"]
    outsiders = {a: await _sync(team, a) for a in ("generalist_a2", "team_lead_a", "generalist_b")}
    assert all(key not in synced["upserts"] for synced in outsiders.values())
    assigned = await team.send(
        "POST",
        f"/api/v1/households/{household}/assignments",
        "team_lead_a",
        json={"worker_id": str(team.worker("generalist_a2"))},
    )
    assert assigned.status_code == 201, assigned.text
    later = await _sync(team, "generalist_a2", outsiders["generalist_a2"]["cursor"])
    document = later["upserts"][key]["data"]
    assert document["worker_ids"] == sorted(str(team.worker(w)) for w in ("generalist_a", "generalist_a2"))
    other_team = await _sync(team, "generalist_b", outsiders["generalist_b"]["cursor"])
    assert key not in other_team["upserts"] and key not in other_team["tombstones"]


@pytest.mark.parametrize(
    ("actor", "status"),
    [("anonymous", 401), ("partner_a", 403), ("analyst", 403), ("resident", 403), ("member", 403)],
)
async def test_who_holds_no_caseload_syncs_no_worklist(team: Team, actor: str, status: int) -> None:
    await _household(team)
    if actor == "member":  # a household member signed in to self-service
        headers = await (await account(team.world, await make_home(team.world, team.client))).headers()
    else:
        headers = await team.world.headers(actor) if actor != "anonymous" else {}
    response = await team.client.get("/api/v1/sync", headers=headers)
    assert response.status_code == status, response.text
    assert WORKLIST not in response.text


async def test_a_page_costs_the_same_statements_however_many_worklists_it_carries(team: Team) -> None:
    households = [await _household(team) for _ in range(6)]
    headers = await team.headers("generalist_a")
    counts = []
    for changed in (households[:1], households[1:]):
        start = (await _sync(team))["cursor"]
        for household in changed:
            contact = {"kind": "phone", "occurred_at": now_iso()}
            await team.ok("POST", f"/api/v1/households/{household}/contacts", json=contact)
        await settle(team.world)
        with counting_statements(team.world.app.state.db) as statements:
            response = await team.client.get("/api/v1/sync", params={"cursor": start}, headers=headers)
        assert response.status_code == 200, response.text
        carried = {u["id"] for u in response.json()["upserts"] if u["entity"] == WORKLIST}
        assert carried == set(changed)
        counts.append(len(statements))
    assert counts[0] == counts[1]
