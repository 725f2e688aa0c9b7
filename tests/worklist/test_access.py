"""Who reaches the worklist routes: the caller's own households only; team leads their teams'; a
confidential household's items only for the workers involved; nobody else anything."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from app.domain.households.models import Household
from app.domain.readmodel.worklist_schemas import WorklistPage
from app.domain.unit_of_work.access_log import AccessLogEntry
from tests.factories import World
from tests.referrals.helpers import Partnering
from tests.worklist.support import Team, days_later, kinds, now_iso

ROUTES = ["/api/v1/worklist", "/api/v1/worklist/team", "/api/v1/worklist/team/caseload"]


@pytest.fixture
async def team(world: World, client: httpx.AsyncClient, tmp_path: Path) -> Team:
    return await Team.start(world, client, tmp_path)


async def _household(team: Team, actor: str = "generalist_a", **fields: object) -> str:
    """An intake a month old by the time the test looks (its contact gap is due)."""
    body = {**team.address(), "first_contact": {"kind": "phone", "occurred_at": now_iso()}, **fields}
    return str((await team.ok("POST", "/api/v1/households", actor, json=body))["id"])


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("anonymous", 401),
        ("partner_a", 403),
        ("analyst", 403),
        ("resident", 403),
        ("admin", 403),
        ("privacy_officer", 403),
    ],
)
async def test_who_has_no_case_scope_is_refused(team: Team, route: str, actor: str, status: int) -> None:
    headers = await team.world.headers(actor) if actor != "anonymous" else {}
    response = await team.client.get(route, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("route", ROUTES[1:])
async def test_a_generalist_has_no_team_view(team: Team, route: str) -> None:
    response = await team.send("GET", route, "generalist_a")
    assert response.status_code == 403


async def test_another_teams_workers_never_see_the_items(team: Team) -> None:
    household = await _household(team)
    with days_later(30):
        assert kinds(await team.worklist("generalist_a"), household) == [("no_contact", True)]
        assert kinds(await team.worklist("generalist_b"), household) == []
        assert kinds(await team.team_worklist("team_lead_b"), household) == []
        assert kinds(await team.team_worklist("team_lead_a"), household) == [("no_contact", True)]
        other = await team.caseload("team_lead_b")
        assert all(w.households == 0 for w in other.workers)
        assert {w.worker_id for w in other.workers} & {team.worker("generalist_a")} == set()


async def test_a_colleague_does_not_get_the_coordinators_items_in_what_needs_me(team: Team) -> None:
    household = await _household(team)
    with days_later(30):
        assert kinds(await team.worklist("generalist_a2"), household) == []
        assert kinds(await team.team_worklist(coordinator=str(team.worker("generalist_a"))), household) == [
            ("no_contact", True)
        ]
        assert kinds(await team.team_worklist(coordinator=str(team.worker("generalist_a2"))), household) == []


async def test_a_confidential_households_items_are_only_for_the_workers_involved(team: Team) -> None:
    household = await _household(team, confidential=True)
    with days_later(30):
        assert kinds(await team.worklist("generalist_a"), household) == [("no_contact", True)]
        assert kinds(await team.worklist("generalist_a2"), household) == []
        assert kinds(await team.team_worklist("team_lead_a"), household) == []
        caseload = await team.caseload("team_lead_a")
        assert sum(w.households for w in caseload.workers) == 0
        assign = f"/api/v1/households/{household}/assignments"
        assigned = await team.send(
            "POST", assign, "team_lead_a", json={"worker_id": str(team.worker("team_lead_a"))}
        )
        assert assigned.status_code == 201, assigned.text
        assert kinds(await team.team_worklist("team_lead_a"), household) == [("no_contact", True)]


async def test_each_household_shown_is_in_its_access_log_and_nothing_else_is(team: Team) -> None:
    shown, quiet = await _household(team), await _household(team)
    with days_later(25):
        await team.ok(
            "POST", f"/api/v1/households/{quiet}/contacts", json={"kind": "phone", "occurred_at": now_iso()}
        )
    with days_later(30):
        page = await team.worklist()
    assert kinds(page, shown) == [("no_contact", True)] and kinds(page, quiet) == []
    entries = await _worklist_entries(team, shown), await _worklist_entries(team, quiet)
    assert entries == (1, 0)


async def _worklist_entries(team: Team, household_id: str) -> int:
    async with team.world.app.state.db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AccessLogEntry)
            .where(
                col(AccessLogEntry.household_id) == household_id, col(AccessLogEntry.resource) == "worklist"
            )
        )
    return int(count or 0)


async def test_the_break_glass_routes_are_for_leads_of_the_households_team(team: Team) -> None:
    household = await _household(team, confidential=True)
    glass = await team.ok(
        "POST",
        f"/api/v1/households/{household}/break-glass",
        "generalist_a2",
        json={"reason": "Crisis, coordinator is ziek."},
    )
    path = f"/api/v1/households/{household}/break-glass/{glass['id']}"
    for actor, status in (("team_lead_b", 404), ("generalist_a", 403), ("partner_a", 403), ("analyst", 403)):
        assert (await team.send("GET", path, actor)).status_code == status, actor
        assert (await team.send("POST", path + "/review", actor)).status_code == status, actor
    assert (await team.client.get(path)).status_code == 401
    page = await team.team_worklist("team_lead_a", kind="break_glass_review")
    [item] = [i for i in page.items if str(i.household_id) == household]
    assert item.household_reference is None  # the lead may not open this file
    assert item.detail["reason"] == "Crisis, coordinator is ziek." and item.link == path
    read = await team.ok("GET", path, "team_lead_a")
    assert read["reviewed_at"] is None and read["worker_id"] == str(team.worker("generalist_a2"))
    reviewed = await team.ok("POST", path + "/review", "team_lead_a")
    assert reviewed["reviewed_by"] == str(team.worker("team_lead_a"))
    assert kinds(await team.team_worklist("team_lead_a", kind="break_glass_review"), household) == []


async def test_a_household_without_coordinator_is_on_the_team_leads_list(team: Team, world: World) -> None:
    household = await _household(team)
    async with world.app.state.db.transaction() as session:
        row = await session.get(Household, household)
        assert row is not None
        row.coordinator_id = None
    page = await team.team_worklist("team_lead_a", unassigned="true")
    assert ("no_coordinator", False) in kinds(page, household)
    caseload = await team.caseload("team_lead_a")
    unassigned = next(w for w in caseload.workers if w.worker_id is None)
    assert unassigned.households == 1 and unassigned.by_status == {"intake": 1}


async def test_an_inbound_referral_waits_on_the_worklists_of_its_own_team_only(team: Team) -> None:
    partnering = Partnering(team.world, team.client)
    for_a = (await partnering.inbound(buurt_index=0))["id"]  # a buurt of team A
    for_b = (await partnering.inbound(buurt_index=2, urgency="routine"))["id"]  # of team B

    def waiting(page: WorklistPage) -> set[str]:
        return {str(i.object.id) for i in page.items if i.kind == "referral_waiting"}

    for actor in ("generalist_a", "generalist_a2"):
        assert waiting(await team.worklist(actor)) == {for_a}
    assert waiting(await team.team_worklist("team_lead_a")) == {for_a}
    assert waiting(await team.worklist("generalist_b")) == {for_b}
    assert waiting(await team.team_worklist("team_lead_b")) == {for_b}
