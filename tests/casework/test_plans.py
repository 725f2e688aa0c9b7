"""Plans over HTTP: versions, one active plan (also under real concurrency), goals and actions,
performer links, the household's agreement, If-Match, and the database's own guarantee."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.domain.households.models import HouseholdStatus
from tests.casework.api import CaseApi, etag
from tests.casework.conftest import Cases


@pytest.fixture
def api(client: httpx.AsyncClient, cases: Cases) -> CaseApi:
    return CaseApi(client, cases)


async def _active_count(cases: Cases, key: str) -> int:
    async with cases.world.app.state.db.transaction() as session:
        count = await session.scalar(
            sa.text("SELECT count(*) FROM plans WHERE household_id = :h AND status = 'active'"),
            {"h": cases.hid(key)},
        )
    return int(count or 0)


async def test_versions_supersede_and_keep_history(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers("generalist_a")
    first = await api.plan("a")
    assert (first["revision"], first["status"], first["supersedes_id"]) == (1, "active", None)
    assert [g["domain"] for g in first["goals"]] == ["finances"]
    assert first["actions"][0]["goal_id"] == first["goals"][0]["id"]
    second = await api.plan("a", actions=[{"description": "Buddy zoeken", "performer_kind": "volunteer"}])
    assert (second["revision"], second["supersedes_id"]) == (2, first["id"])
    assert second["actions"][-1]["goal_id"] is None

    old = (await client.get(f"{api.base('a')}/plans/{first['id']}", headers=headers)).json()
    assert old["status"] == "superseded" and old["superseded_at"] is not None
    assert len(old["goals"]) == 1  # history keeps its own content
    active = await client.get(f"{api.base('a')}/plan", headers=headers)
    assert active.json()["id"] == second["id"]
    assert active.headers["etag"] == etag(second)

    history = await client.get(f"{api.base('a')}/plans", headers=headers, params={"limit": 1})
    assert [p["revision"] for p in history.json()["items"]] == [2]
    rest = await client.get(
        f"{api.base('a')}/plans", headers=headers, params={"cursor": history.json()["next_cursor"]}
    )
    assert [p["revision"] for p in rest.json()["items"]] == [1]
    assert await _active_count(cases, "a") == 1


async def test_a_stale_version_is_refused(client: httpx.AsyncClient, cases: Cases, api: CaseApi) -> None:
    headers = await cases.headers("generalist_a")
    await api.plan("a")
    again = await client.post(f"{api.base('a')}/plans", headers=headers, json=api.plan_body(None))
    assert again.status_code == 409
    assert again.json()["type"].endswith("stale_plan_version")


async def test_concurrent_new_versions_leave_exactly_one_active_plan(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    first = await api.plan("a")
    headers = await cases.headers("generalist_a")
    bodies = [api.plan_body(first["id"], summary=f"versie {i}") for i in range(4)]
    responses = await asyncio.gather(
        *(client.post(f"{api.base('a')}/plans", headers=headers, json=body) for body in bodies)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    assert await _active_count(cases, "a") == 1
    # And when there is no plan yet, two "first plans" at once: one wins.
    await cases.add("fresh")
    racing = await asyncio.gather(
        *(
            client.post(f"{api.base('fresh')}/plans", headers=headers, json=api.plan_body(None))
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in racing) == [201, 409]
    assert await _active_count(cases, "fresh") == 1


async def test_the_database_refuses_a_second_active_plan(cases: Cases, api: CaseApi) -> None:
    """Not only the code: the partial unique index itself forbids two active plans."""
    await api.plan("a")
    with pytest.raises(IntegrityError, match="uq_plans_one_active_per_household"):
        async with cases.world.app.state.db.transaction() as session:
            await session.execute(
                sa.text(
                    "INSERT INTO plans (id, household_id, revision, status) VALUES (:id, :h, 99, 'active')"
                ),
                {"id": uuid.uuid4(), "h": cases.hid("a")},
            )


async def test_goals_and_actions_with_if_match(client: httpx.AsyncClient, cases: Cases, api: CaseApi) -> None:
    headers = await cases.headers("generalist_a")
    plan = await api.plan("a")
    base = f"{api.base('a')}/plans/{plan['id']}"
    goal = await api.goal("a", plan["id"])
    missing = await client.patch(f"{base}/goals/{goal['id']}", headers=headers, json={"target_score": 5})
    assert missing.status_code == 428
    updated = await client.patch(
        f"{base}/goals/{goal['id']}", headers={**headers, "If-Match": etag(goal)}, json={"target_score": 5}
    )
    assert updated.status_code == 200 and updated.json()["target_score"] == 5
    stale = await client.patch(
        f"{base}/goals/{goal['id']}", headers={**headers, "If-Match": etag(goal)}, json={"target_score": 3}
    )
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("stale_version")

    action = await api.action("a", plan["id"], goal_id=goal["id"], due_date="2026-12-01")
    done = await client.patch(
        f"{base}/actions/{action['id']}", headers={**headers, "If-Match": etag(action)}, json={"done": True}
    )
    assert done.status_code == 200
    assert done.json()["done"] is True and done.json()["done_at"] is not None
    assert done.headers["etag"] == etag(done.json())

    # The goal goes; its action stays in the plan, no longer tied to a goal.
    goal_now = (await client.get(f"{base}/goals/{goal['id']}", headers=headers)).json()
    gone = await client.delete(f"{base}/goals/{goal['id']}", headers={**headers, "If-Match": etag(goal_now)})
    assert gone.status_code == 204
    after = (await client.get(f"{base}/actions/{action['id']}", headers=headers)).json()
    assert after["goal_id"] is None

    # Each change bumped the plan's version (its ETag covers goals and actions).
    current = (await client.get(f"{api.base('a')}/plan", headers=headers)).json()
    assert current["version"] > plan["version"]
    old_etag = await client.patch(base, headers={**headers, "If-Match": etag(plan)}, json={"summary": "x"})
    assert old_etag.status_code == 412


async def test_performer_links_are_checked(client: httpx.AsyncClient, cases: Cases, api: CaseApi) -> None:
    headers = await cases.headers("generalist_a")
    plan = await api.plan("a")
    base = f"{api.base('a')}/plans/{plan['id']}/actions"
    neighbour = await api.person("a")
    other_household_person = await api.person("conf")
    team_b_worker = cases.world.people["generalist_b"].worker
    team_a_worker = cases.world.people["generalist_a2"].worker
    assert team_a_worker and team_b_worker

    async def post(body: dict[str, Any]) -> httpx.Response:
        return await client.post(base, headers=headers, json={"description": "Boodschappen", **body})

    ok = await post({"performer_kind": "network_member", "network_person_id": neighbour["id"]})
    assert ok.status_code == 201 and ok.json()["network_person_id"] == neighbour["id"]
    assert (await post({"performer_kind": "worker", "worker_id": str(team_a_worker.id)})).status_code == 201

    cases_and_rules = [
        ({"performer_kind": "network_member"}, ("body", "network_person_id"), "missing"),
        (
            {"performer_kind": "network_member", "network_person_id": other_household_person["id"]},
            ("body", "network_person_id"),
            "network_person_unknown",
        ),
        (
            {"performer_kind": "household", "network_person_id": neighbour["id"]},
            ("body", "network_person_id"),
            "performer_link_mismatch",
        ),
        (
            {"performer_kind": "worker", "worker_id": str(team_b_worker.id)},
            ("body", "worker_id"),
            "worker_not_in_team",
        ),
        (
            {"performer_kind": "household", "goal_id": str(uuid.uuid4())},
            ("body", "goal_id"),
            "goal_not_in_plan",
        ),
    ]
    for body, loc, rule in cases_and_rules:
        response = await post(body)
        assert response.status_code == 422, body
        assert [(tuple(e["loc"]), e["rule"]) for e in response.json()["errors"]] == [(loc, rule)], body
    referral = await post({"performer_kind": "partner", "referral_id": str(uuid.uuid4())})
    assert referral.status_code == 422  # the referral link is server-owned
    assert referral.json()["errors"][0]["rule"] == "extra_forbidden"

    # Changing the performer kind drops links the request does not restate.
    moved = await client.patch(
        f"{base}/{ok.json()['id']}",
        headers={**headers, "If-Match": etag(ok.json())},
        json={"performer_kind": "volunteer"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["network_person_id"] is None


async def test_a_new_version_validates_all_content_at_once(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers("generalist_a")
    body = api.plan_body(
        None,
        goals=[
            {
                "domain": "astrology",
                "target_score": 4,
                "actions": [{"description": "x", "performer_kind": "network_member"}],
            },
            {"domain": "housing", "target_score": 9},
        ],
        actions=[
            {"description": "y", "performer_kind": "household", "continues_action_id": str(uuid.uuid4())}
        ],
    )
    response = await client.post(f"{api.base('a')}/plans", headers=headers, json=body)
    assert response.status_code == 422
    body["goals"][1]["target_score"] = 4
    response = await client.post(f"{api.base('a')}/plans", headers=headers, json=body)
    assert response.status_code == 422
    found = {(tuple(e["loc"]), e["rule"]) for e in response.json()["errors"]}
    assert found == {
        (("body", "goals", 0, "domain"), "unknown_life_domain"),
        (("body", "goals", 0, "actions", 0, "network_person_id"), "missing"),
        (("body", "actions", 0, "continues_action_id"), "action_not_in_superseded_plan"),
    }
    assert await _active_count(cases, "a") == 0  # nothing half-written


async def test_continued_actions_keep_their_place(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    first = await api.plan("a")
    carried = first["actions"][0]
    body = api.plan_body(
        first["id"],
        goals=[],
        actions=[
            {
                "description": carried["description"],
                "performer_kind": "household",
                "continues_action_id": carried["id"],
            }
        ],
    )
    response = await client.post(
        f"{api.base('a')}/plans", headers=await cases.headers("generalist_a"), json=body
    )
    assert response.status_code == 201, response.text
    assert response.json()["actions"][0]["description"] == carried["description"]


async def test_agreement_and_what_an_agreed_plan_still_takes(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers("generalist_a")
    plan = await api.plan("a")
    base = f"{api.base('a')}/plans/{plan['id']}"
    parent = str(cases.members["a"][0].id)
    stranger = str(cases.members["b"][0].id)

    assert (
        await client.post(f"{base}/agreement", headers=headers, json={"agreed_by_member_id": parent})
    ).status_code == 428
    wrong = await client.post(
        f"{base}/agreement",
        headers={**headers, "If-Match": etag(plan)},
        json={"agreed_by_member_id": stranger, "agreed_at": "2099-01-01T10:00:00+01:00"},
    )
    assert wrong.status_code == 422
    assert {e["rule"] for e in wrong.json()["errors"]} == {"member_not_in_household", "date_in_future"}
    agreed = await client.post(
        f"{base}/agreement", headers={**headers, "If-Match": etag(plan)}, json={"agreed_by_member_id": parent}
    )
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["agreed_by_member_id"] == parent and agreed.json()["agreed_at"]
    plan_now = agreed.json()

    again = await client.post(
        f"{base}/agreement",
        headers={**headers, "If-Match": etag(plan_now)},
        json={"agreed_by_member_id": parent},
    )
    assert again.status_code == 409 and again.json()["type"].endswith("plan_already_agreed")
    content = await client.patch(
        base, headers={**headers, "If-Match": etag(plan_now)}, json={"summary": "anders"}
    )
    assert content.status_code == 409 and content.json()["type"].endswith("plan_agreed")
    moved = await client.patch(
        base, headers={**headers, "If-Match": etag(plan_now)}, json={"evaluation_date": "2027-06-01"}
    )
    assert moved.status_code == 200
    assert (
        await client.post(f"{base}/goals", headers=headers, json={"domain": "housing", "target_score": 4})
    ).status_code == 409
    action = plan["actions"][0]
    progress = await client.patch(
        f"{base}/actions/{action['id']}", headers={**headers, "If-Match": etag(action)}, json={"done": True}
    )
    assert progress.status_code == 200
    reword = await client.patch(
        f"{base}/actions/{action['id']}",
        headers={**headers, "If-Match": etag(progress.json())},
        json={"description": "iets anders"},
    )
    assert reword.status_code == 409


async def test_history_and_closed_files_are_read_only(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers("generalist_a")
    first = await api.plan("a")
    await api.plan("a")
    first_now = (await client.get(f"{api.base('a')}/plans/{first['id']}", headers=headers)).json()
    old = await client.patch(
        f"{api.base('a')}/plans/{first['id']}",
        headers={**headers, "If-Match": etag(first_now)},
        json={"summary": "x"},
    )
    assert old.status_code == 409 and old.json()["type"].endswith("plan_not_active")

    await cases.add("closed", status=HouseholdStatus.closed)
    closed = await client.post(f"{api.base('closed')}/plans", headers=headers, json=api.plan_body(None))
    assert closed.status_code == 409 and closed.json()["type"].endswith("household_closed")


async def test_idempotency_key_replays_a_new_version(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers("generalist_a", **{"Idempotency-Key": f"plan-{uuid.uuid4()}"})
    body = api.plan_body(None)
    first = await client.post(f"{api.base('a')}/plans", headers=headers, json=body)
    replay = await client.post(f"{api.base('a')}/plans", headers=headers, json=body)
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.json()["id"] == first.json()["id"]
    other = await client.post(f"{api.base('a')}/plans", headers=headers, json={**body, "summary": "anders"})
    assert other.status_code == 422
    assert await _active_count(cases, "a") == 1
