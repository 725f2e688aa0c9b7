"""A household member adds their own view to an evaluation of their household's plan: kept beside the
household's view the worker recorded, never over it; once per member per evaluation; logged as the
member's; seen by the team with the evaluation and by the member in their plan; synced as a plan
change. Another household's evaluation, another member's view and a switched-off member: 404."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from app.domain.unit_of_work.change_feed import CaseChange
from tests.factories import World
from tests.self_service.support import Home, Signed, account, log_rows, make_home

WORKERS_RECORD = "De post is weer bij. Huur lukt nog niet altijd."
ANNAS_VIEW = "Het gaat beter met de post.\nDe huur blijft lastig."


def _views(evaluation_id: str) -> str:
    return f"/api/v1/me/plan/evaluations/{evaluation_id}/views"


async def evaluation(home: Home) -> str:
    """The team agrees the plan with the household and records an evaluation of it."""
    base = f"/api/v1/households/{home.id}/plans/{home.plan['id']}"
    current = await home.get(f"/api/v1/households/{home.id}/plan")
    agreed = await home.post(
        base + "/agreement",
        {"agreed_by_member_id": home.members["Anna"]},
        **{"If-Match": current.headers["ETag"]},
    )
    assert agreed.status_code == 200, agreed.text
    body = {
        "member_ids": [home.members["Anna"]],
        "household_view": WORKERS_RECORD,
        "goals": [{"goal_id": g["id"], "result": "partly"} for g in home.plan["goals"]],
    }
    evaluated = await home.post(base + "/evaluations", body)
    assert evaluated.status_code == 201, evaluated.text
    return str(evaluated.json()["evaluations"][0]["id"])


async def _team_evaluation(home: Home) -> dict[str, Any]:
    plan = (await home.get(f"/api/v1/households/{home.id}/plan")).json()
    [recorded] = plan["evaluations"]
    return dict(recorded)


async def _plan_changes(world: World, household_id: str) -> int:
    async with world.app.state.db.transaction() as session:
        found = await session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseChange)
            .where(col(CaseChange.household_id) == uuid.UUID(household_id), col(CaseChange.entity) == "plan")
        )
    return int(found or 0)


async def test_the_member_adds_their_view_beside_the_workers_record(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    evaluation_id = await evaluation(home)
    headers = await anna.headers()
    before = (await client.get("/api/v1/me/plan", headers=headers)).json()
    [shown] = before["evaluations"]
    assert shown["id"] == evaluation_id and shown["your_view"] is None
    assert shown["household_view"] == WORKERS_RECORD and [g["result"] for g in shown["goals"]] == ["partly"]
    changes = await _plan_changes(home.world, home.id)

    added = await client.post(_views(evaluation_id), json={"view": ANNAS_VIEW}, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json()["member_id"] == home.members["Anna"] and added.json()["view"] == ANNAS_VIEW

    # The team sees it with the evaluation, beside its own record of the household's view.
    recorded = await _team_evaluation(home)
    assert recorded["household_view"] == WORKERS_RECORD
    assert [(v["member_id"], v["view"]) for v in recorded["member_views"]] == [
        (home.members["Anna"], ANNAS_VIEW)
    ]
    # The member sees it in their plan; the version counted up and the phones hear of it.
    after = (await client.get("/api/v1/me/plan", headers=headers)).json()
    assert after["evaluations"][0]["your_view"] == ANNAS_VIEW and after["version"] == before["version"] + 1
    assert await _plan_changes(home.world, home.id) == changes + 1
    # Logged as the member's own action.
    [row] = await log_rows(home.world, added.headers["X-Request-ID"])
    assert (row.resource, row.action, row.purpose, row.outcome) == (
        "plan_evaluation_view",
        "create",
        "self_service",
        "allowed",
    )
    assert (str(row.household_id), str(row.person_id), row.actor_role) == (
        home.id,
        home.members["Anna"],
        "household_member",
    )

    # Once per member per evaluation: a second view is refused, the first one stands.
    again = await client.post(_views(evaluation_id), json={"view": "Toch anders."}, headers=headers)
    assert again.status_code == 409 and again.json()["type"].endswith("evaluation_view_exists")
    assert "Toch anders" not in again.text
    assert [v["view"] for v in (await _team_evaluation(home))["member_views"]] == [ANNAS_VIEW]


async def test_each_member_sees_only_their_own_view(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    evaluation_id = await evaluation(home)
    ewout = await account(world, home, "Ewout")
    added = await client.post(_views(evaluation_id), json={"view": ANNAS_VIEW}, headers=await anna.headers())
    assert added.status_code == 201, added.text
    seen = await client.get("/api/v1/me/plan", headers=await ewout.headers())
    assert seen.json()["evaluations"][0]["your_view"] is None and ANNAS_VIEW.split("\n")[0] not in seen.text
    own = await client.post(
        _views(evaluation_id), json={"view": "Ik zie het anders."}, headers=await ewout.headers()
    )
    assert own.status_code == 201, own.text
    views = (await _team_evaluation(home))["member_views"]
    assert [v["member_id"] for v in views] == [home.members["Anna"], home.members["Ewout"]]
    mine = (await client.get("/api/v1/me/plan", headers=await anna.headers())).json()
    assert mine["evaluations"][0]["your_view"] == ANNAS_VIEW
    # Her export holds her own view, not her housemate's (that is his data).
    exported = await client.get("/api/v1/me/export", headers=await anna.headers())
    [plan] = exported.json()["sections"]["plans"]
    assert [v["view"] for v in plan["evaluations"][0]["member_views"]] == [ANNAS_VIEW]
    assert "Ik zie het anders" not in exported.text


async def test_another_households_evaluation_a_switched_off_member_and_bad_input(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    other = await make_home(world, client)
    theirs = await evaluation(other)
    headers = await anna.headers()
    refused = await client.post(_views(theirs), json={"view": ANNAS_VIEW}, headers=headers)
    assert refused.status_code == 404
    missing = await client.post(_views(str(uuid.uuid4())), json={"view": ANNAS_VIEW}, headers=headers)
    assert missing.status_code == 404
    assert (await _team_evaluation(other))["member_views"] == []
    [row] = await log_rows(world, refused.headers["X-Request-ID"])
    assert (row.resource, row.outcome, str(row.household_id)) == ("plan_evaluation_view", "failed", home.id)

    own = await evaluation(home)
    for bad in ({"view": ""}, {"view": "x" * 1001}, {"view": "a\x00b"}, {"view": ANNAS_VIEW, "extra": 1}):
        invalid = await client.post(_views(own), json=bad, headers=headers)
        assert invalid.status_code == 422, (bad, invalid.text)
        assert invalid.headers["content-type"].startswith("application/problem+json")
        assert "x" * 50 not in invalid.text and "a\\u0000b" not in invalid.text

    switched = await home.post(
        f"/api/v1/households/{home.id}/members/{home.members['Anna']}/self-service/switch", {"enabled": False}
    )
    assert switched.status_code == 200, switched.text
    off = await client.post(_views(own), json={"view": ANNAS_VIEW}, headers=headers)
    assert off.status_code == 404
    [row] = await log_rows(world, off.headers["X-Request-ID"])
    assert row.outcome == "denied"
    assert (await _team_evaluation(home))["member_views"] == []


async def test_every_other_caller_is_refused(world: World, client: httpx.AsyncClient, home: Home) -> None:
    evaluation_id = await evaluation(home)
    for actor in ("generalist_a", "generalist_b", "partner_a", "analyst", "resident"):
        response = await client.post(
            _views(evaluation_id), json={"view": ANNAS_VIEW}, headers=await world.headers(actor)
        )
        assert response.status_code == 403, (actor, response.text)
    anonymous = await client.post(_views(evaluation_id), json={"view": ANNAS_VIEW})
    assert anonymous.status_code == 401
    assert (await _team_evaluation(home))["member_views"] == []
