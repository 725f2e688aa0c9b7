"""Assessments over HTTP: scores per life domain, validation, If-Match, latest scores and the tier."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx

from app.domain.households.models import HouseholdStatus
from app.domain.reference.models import LifeDomain
from tests.casework.conftest import Cases


def url(cases: Cases, key: str = "a", rest: str = "") -> str:
    return f"/api/v1/households/{cases.hid(key)}/assessments{rest}"


async def test_record_read_and_latest(client: httpx.AsyncClient, cases: Cases) -> None:
    headers = await cases.headers("generalist_a")
    member = cases.members["a"][1]
    first = await client.post(
        url(cases),
        headers=headers,
        json={
            "assessed_on": "2026-01-10",
            "scores": [{"domain": "finances", "score": 2}, {"domain": "housing", "score": 4}],
        },
    )
    assert first.status_code == 201, first.text
    assert first.headers["etag"] == f'"{first.json()["id"]}.1"'
    assert [s["domain"] for s in first.json()["scores"]] == ["finances", "housing"]
    later = await client.post(
        url(cases),
        headers=headers,
        json={"assessed_on": "2026-03-01", "scores": [{"domain": "finances", "score": 4}]},
    )
    assert later.status_code == 201
    child = await client.post(
        url(cases),
        headers=headers,
        json={
            "member_id": str(member.id),
            "assessed_on": "2026-02-01",
            "scores": [{"domain": "parenting", "score": 5}],
        },
    )
    assert child.status_code == 201

    summary = (await client.get(url(cases, rest="/latest"), headers=headers)).json()
    latest = {(s["member_id"], s["domain"]): s["score"] for s in summary["latest"]}
    assert latest == {(None, "finances"): 4, (None, "housing"): 4, (str(member.id), "parenting"): 5}
    assert summary["tier"] == "self_reliant"

    listed = (await client.get(url(cases), headers=headers)).json()
    assert [i["assessed_on"] for i in listed["items"]] == ["2026-03-01", "2026-02-01", "2026-01-10"]
    only_child = (await client.get(url(cases), headers=headers, params={"member_id": str(member.id)})).json()
    assert [i["id"] for i in only_child["items"]] == [child.json()["id"]]


async def test_bad_input_names_field_and_rule(client: httpx.AsyncClient, cases: Cases) -> None:
    headers = await cases.headers("generalist_a")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    other_member = cases.members["b"][0]
    response = await client.post(
        url(cases),
        headers=headers,
        json={
            "member_id": str(other_member.id),
            "assessed_on": tomorrow,
            "scores": [{"domain": "astrology", "score": 3}, {"domain": "finances", "score": 3}],
        },
    )
    assert response.status_code == 422
    rules = {(tuple(e["loc"]), e["rule"]) for e in response.json()["errors"]}
    assert rules == {
        (("body", "member_id"), "member_not_in_household"),
        (("body", "assessed_on"), "date_in_future"),
        (("body", "scores", 0, "domain"), "unknown_life_domain"),
    }
    out_of_range = await client.post(
        url(cases),
        headers=headers,
        json={"assessed_on": "2026-01-01", "scores": [{"domain": "finances", "score": 6}]},
    )
    assert out_of_range.status_code == 422
    extra = await client.post(
        url(cases),
        headers=headers,
        json={"assessed_on": "2026-01-01", "tier": "support", "scores": [{"domain": "finances", "score": 3}]},
    )
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["rule"] == "extra_forbidden"


async def test_corrections_need_if_match(client: httpx.AsyncClient, cases: Cases) -> None:
    headers = await cases.headers("generalist_a")
    created = (
        await client.post(
            url(cases),
            headers=headers,
            json={"assessed_on": "2026-01-10", "scores": [{"domain": "finances", "score": 1}]},
        )
    ).json()
    one = url(cases, rest=f"/{created['id']}")
    tag = f'"{created["id"]}.{created["version"]}"'
    assert (await client.patch(one, headers=headers, json={"note": "x"})).status_code == 428
    garbage = await client.patch(one, headers={**headers, "If-Match": '"nonsense"'}, json={"note": "x"})
    assert garbage.status_code == 412
    fixed = await client.patch(
        one,
        headers={**headers, "If-Match": tag},
        json={"scores": [{"domain": "finances", "score": 2}, {"domain": "justice", "score": 5}]},
    )
    assert fixed.status_code == 200
    assert fixed.json()["scores"] == [{"domain": "finances", "score": 2}, {"domain": "justice", "score": 5}]
    assert (
        await client.patch(one, headers={**headers, "If-Match": tag}, json={"note": "y"})
    ).status_code == 412
    assert (await client.delete(one, headers={**headers, "If-Match": tag})).status_code == 412
    new_tag = fixed.headers["etag"]
    assert (await client.delete(one, headers={**headers, "If-Match": new_tag})).status_code == 204
    assert (await client.get(one, headers=headers)).status_code == 404


async def test_duplicate_domains_and_inactive_domains(client: httpx.AsyncClient, cases: Cases) -> None:
    headers = await cases.headers("generalist_a")
    twice = await client.post(
        url(cases),
        headers=headers,
        json={
            "assessed_on": "2026-01-10",
            "scores": [{"domain": "finances", "score": 1}, {"domain": "finances", "score": 2}],
        },
    )
    assert twice.status_code == 422
    assert twice.json()["errors"] == [
        {"loc": ["body", "scores"], "message": "Each domain may be scored once.", "rule": "duplicate_domain"}
    ]
    retired = f"retired_{uuid.uuid4().hex[:8]}"  # its own row: the seeded list stays untouched
    async with cases.world.app.state.db.transaction() as session:
        session.add(LifeDomain(code=retired, label_nl="Oud", label_en="Old", position=99, active=False))
    inactive = await client.post(
        url(cases),
        headers=headers,
        json={"assessed_on": "2026-01-10", "scores": [{"domain": retired, "score": 3}]},
    )
    assert inactive.status_code == 422
    assert inactive.json()["errors"][0]["rule"] == "unknown_life_domain"


async def test_the_tier_follows_the_latest_scores(client: httpx.AsyncClient, cases: Cases) -> None:
    headers = await cases.headers("generalist_a")

    async def record(day: str, scores: dict[str, int], member: str | None = None) -> None:
        body = {"assessed_on": day, "scores": [{"domain": d, "score": s} for d, s in scores.items()]}
        if member:
            body["member_id"] = member
        assert (await client.post(url(cases), headers=headers, json=body)).status_code == 201

    async def tier() -> str | None:
        return (await client.get(url(cases, rest="/latest"), headers=headers)).json()["tier"]

    assert await tier() is None
    await record("2026-01-01", {"finances": 1, "housing": 4})
    assert await tier() == "specialist"
    await record("2026-02-01", {"finances": 3})  # finances improved; housing's latest is still 4
    assert await tier() == "support"
    await record("2026-03-01", {"finances": 4, "housing": 5})
    assert await tier() == "self_reliant"
    child = str(cases.members["a"][1].id)
    await record("2026-03-02", {"parenting": 2, "mental_health": 2, "daytime_activity": 2}, member=child)
    assert await tier() == "specialist"  # a multi-problem picture for one member marks the household


async def test_closed_case_files_take_no_new_assessments(client: httpx.AsyncClient, cases: Cases) -> None:
    await cases.add("closed", status=HouseholdStatus.closed)
    response = await client.post(
        url(cases, "closed"),
        headers=await cases.headers("generalist_a"),
        json={"assessed_on": "2026-01-10", "scores": [{"domain": "finances", "score": 3}]},
    )
    assert response.status_code == 409
    assert response.json()["type"] == "urn:wijkwerk:problem:household_closed"


async def test_pages_newest_first(client: httpx.AsyncClient, cases: Cases) -> None:
    headers = await cases.headers("generalist_a")
    for day in ("2026-01-01", "2026-01-03", "2026-01-02"):
        body = {"assessed_on": day, "scores": [{"domain": "finances", "score": 3}]}
        assert (await client.post(url(cases), headers=headers, json=body)).status_code == 201
    first = (await client.get(url(cases), headers=headers, params={"limit": 2})).json()
    rest = (
        await client.get(url(cases), headers=headers, params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [i["assessed_on"] for i in first["items"] + rest["items"]] == [
        "2026-01-03",
        "2026-01-02",
        "2026-01-01",
    ]


async def test_control_characters_are_refused_not_a_500(client: httpx.AsyncClient, cases: Cases) -> None:
    response = await client.post(
        url(cases),
        headers=await cases.headers("generalist_a"),
        json={
            "assessed_on": "2026-01-10",
            "note": "kort\x00gesprek",
            "scores": [{"domain": "finances", "score": 3}],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "loc": ["body", "note"],
        "message": "Text may hold line breaks and tabs but no other control characters.",
        "rule": "control_character",
    }
