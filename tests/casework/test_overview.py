"""The household overview: one screen, one request, the bytes match the documented model, and the
number of SQL statements is the same for a tiny and a large household (also for the lists)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.domain.households.models import ContactMoment, HouseholdTheme
from app.domain.readmodel.overview_schemas import HouseholdOverview
from tests.casework.api import CaseApi, etag
from tests.casework.conftest import Cases
from tests.support.statements import counting_statements


@pytest.fixture
def api(client: httpx.AsyncClient, cases: Cases) -> CaseApi:
    return CaseApi(client, cases)


async def _fill(cases: Cases, api: CaseApi, key: str, size: int) -> None:
    """A household with ``size`` of everything: scores, goals and actions, contacts, themes, people."""
    members = cases.members[key]
    domains = ["finances", "housing", "mental_health", "social_network", "parenting"][: max(1, min(size, 5))]
    for i in range(size):
        member = str(members[i % len(members)].id) if i % 2 else None
        fields = {"member_id": member} if member else {}
        await api.assessment(key, {d: 1 + (i + j) % 5 for j, d in enumerate(domains)}, **fields)
    people = [await api.person(key, label=f"helper {chr(97 + i)}", engaged=i % 2 == 0) for i in range(size)]
    goals = [{"domain": d, "target_score": 4, "actions": []} for d in domains[:size]]
    actions = [
        {
            "description": f"stap {i}",
            "performer_kind": "network_member",
            "network_person_id": p["id"],
            "done": i % 3 == 0,
        }
        for i, p in enumerate(people)
    ]
    await api.plan(key, goals=goals, actions=actions)
    now = datetime.now(UTC)
    async with cases.world.app.state.db.transaction() as session:
        session.add_all(
            ContactMoment(
                household_id=cases.hid(key), kind="phone", occurred_at=now - timedelta(days=i), minutes=10
            )
            for i in range(size * 2)
        )
        session.add_all(
            HouseholdTheme(household_id=cases.hid(key), theme_code=t) for t in ["debts", "loneliness"][:size]
        )


async def test_overview_in_one_request_matches_the_model(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    await _fill(cases, api, "a", 6)
    response = await client.get(f"{api.base('a')}/overview", headers=await cases.headers("generalist_a"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    overview = HouseholdOverview.model_validate_json(response.content)  # the bytes ARE the model
    assert overview.household.id == cases.hid("a")
    assert overview.household.buurt_code == cases.world.buurten[0].code
    assert [m.id for m in overview.members] == [m.id for m in cases.members["a"]]
    assert "bsn" not in response.text.replace("has_bsn", "")
    assert len(overview.recent_contacts) == 5
    times = [c.occurred_at for c in overview.recent_contacts]
    assert times == sorted(times, reverse=True)
    assert overview.themes == ["debts", "loneliness"]
    assert overview.plan is not None and overview.plan.revision == 1
    assert len(overview.plan.goals) == 5
    assert len(overview.plan.open_actions) == 4  # 6 actions, 2 of them done
    assert overview.network.people == 6 and overview.network.engaged == 3
    assert overview.network.by_support_kind == {
        "practical": 6,
        "emotional": 0,
        "admin": 0,
        "care": 0,
        "company": 0,
    }
    assert len(overview.network.engaged_people) == 3
    latest = (
        await client.get(f"{api.base('a')}/assessments/latest", headers=await cases.headers("generalist_a"))
    ).json()
    assert overview.tier == latest["tier"]
    assert sorted((s.domain, str(s.member_id), s.score) for s in overview.latest_scores) == sorted(
        (s["domain"], str(s["member_id"]), s["score"]) for s in latest["latest"]
    )


async def test_overview_of_an_empty_household(client: httpx.AsyncClient, cases: Cases) -> None:
    await cases.add("empty", members=0)
    response = await client.get(
        f"/api/v1/households/{cases.hid('empty')}/overview", headers=await cases.headers("generalist_a")
    )
    overview = HouseholdOverview.model_validate_json(response.content)
    assert overview.tier is None and overview.plan is None
    assert overview.members == [] and overview.latest_scores == [] and overview.recent_contacts == []
    assert overview.network.people == 0 and overview.network.engaged_people == []


async def _statements(client: httpx.AsyncClient, cases: Cases, path: str) -> int:
    headers = await cases.headers("generalist_a")
    await client.get(path, headers=headers)  # warm: keys and caches loaded
    with counting_statements(cases.world.app.state.db) as statements:
        response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return len(statements)


@pytest.mark.parametrize(
    "path",
    ["overview", "assessments", "assessments/latest", "network", "plan", "plans"],
)
async def test_constant_statements_whatever_the_size(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi, path: str
) -> None:
    await cases.add("small", members=1)
    await cases.add("large", members=8)
    await _fill(cases, api, "small", 1)
    await _fill(cases, api, "large", 25)
    small = await _statements(client, cases, f"{api.base('small')}/{path}")
    large = await _statements(client, cases, f"{api.base('large')}/{path}")
    assert small == large, (path, small, large)
    # the access check, the read(s), the access-log insert (the overview: all three in one statement;
    # the plan: the version with its goals, actions and evaluations in one)
    expected = {"overview": 1, "assessments": 4, "assessments/latest": 3, "network": 3, "plan": 4, "plans": 3}
    assert small == expected[path], (path, small)


async def test_an_etag_from_the_overview_plan_works(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    await api.plan("a")
    headers = await cases.headers("generalist_a")
    overview = (await client.get(f"{api.base('a')}/overview", headers=headers)).json()
    plan = overview["plan"]
    response = await client.patch(
        f"{api.base('a')}/plans/{plan['id']}",
        headers={**headers, "If-Match": etag(plan)},
        json={"summary": "kort"},
    )
    assert response.status_code == 200
