"""The case-file entities in offline sync (registry) and in the subject-access export (sections)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.casework.api import CaseApi, etag
from tests.casework.conftest import Cases
from tests.factories import World
from tests.households.support import settle


async def _sync_all(
    client: httpx.AsyncClient, world: World, headers: dict[str, Any], cursor: str | None = None
) -> dict[str, Any]:
    """Follow ``has_more`` to the end; the upserts and tombstones of every page, and the last cursor.
    Waits first until every change made so far is due (``settle``)."""
    await settle(world)
    upserts: list[dict[str, Any]] = []
    tombstones: list[dict[str, Any]] = []
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = await client.get("/api/v1/sync", headers=headers, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        upserts += body["upserts"]
        tombstones += body["tombstones"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return {"upserts": upserts, "tombstones": tombstones, "cursor": cursor}


async def test_sync_carries_assessments_plans_and_the_network_map(
    client: httpx.AsyncClient, world: World
) -> None:
    cases = Cases(world)  # a world of its own: the full sync covers exactly these households
    await cases.add("a")
    api = CaseApi(client, cases)
    headers = await cases.headers("generalist_a")
    assessment = await api.assessment("a", {"finances": 2, "housing": 4})
    plan = await api.plan("a")
    person = await api.person("a")

    full = await _sync_all(client, world, headers)
    by_entity = {(u["entity"], u["id"]): u["data"] for u in full["upserts"]}
    assert by_entity[("assessment", assessment["id"])]["scores"] == assessment["scores"]
    synced_plan = by_entity[("plan", plan["id"])]
    assert synced_plan == plan  # the same shape as the REST read, goals and actions included
    assert by_entity[("network_person", person["id"])] == person

    # Changes since the cursor: an edited goal re-sends its plan; a removed person is a tombstone.
    goal = plan["goals"][0]
    base = f"{api.base('a')}/plans/{plan['id']}"
    assert (
        await client.patch(
            f"{base}/goals/{goal['id']}",
            headers={**headers, "If-Match": etag(goal)},
            json={"target_score": 5},
        )
    ).status_code == 200
    removed = await client.delete(
        f"{api.base('a')}/network/{person['id']}", headers={**headers, "If-Match": etag(person)}
    )
    assert removed.status_code == 204
    changes = await _sync_all(client, world, headers, full["cursor"])
    plans = [u["data"] for u in changes["upserts"] if u["entity"] == "plan"]
    assert [p["goals"][0]["target_score"] for p in plans] == [5]
    assert {"entity": "network_person", "id": person["id"], "household_id": str(cases.hid("a"))} in changes[
        "tombstones"
    ]


async def test_subject_access_export_has_the_case_file_sections(
    client: httpx.AsyncClient, cases: Cases
) -> None:
    api = CaseApi(client, cases)
    parent, child = cases.members["a"]
    await api.assessment("a", {"finances": 3})  # the household as a whole
    await api.assessment("a", {"parenting": 4}, member_id=str(child.id))  # someone else in it
    mine = await api.assessment("a", {"housing": 2}, member_id=str(parent.id))
    plan = await api.plan("a")
    person = await api.person("a", label="Ans")

    response = await client.post(
        "/api/v1/audit/subject-access",
        headers=await cases.headers("privacy_officer"),
        json={"member_id": str(parent.id)},
    )
    assert response.status_code == 200, response.text
    sections = response.json()["sections"]
    about_parent = {(a["member_id"], a["scores"][0]["domain"]) for a in sections["assessments"]}
    assert about_parent == {(None, "finances"), (str(parent.id), "housing")}  # not the child's own
    assert mine["id"] in {a["id"] for a in sections["assessments"]}
    assert [p["id"] for p in sections["plans"]] == [plan["id"]]
    assert [p["id"] for p in sections["network_map"]] == [person["id"]]


async def test_deleting_a_member_tombstones_what_the_database_cascades(
    client: httpx.AsyncClient, world: World
) -> None:
    cases = Cases(world)
    await cases.add("a")
    api = CaseApi(client, cases)
    headers = await cases.headers("generalist_a")
    _parent, child = cases.members["a"]
    about_child = await api.assessment("a", {"parenting": 3}, member_id=str(child.id))
    about_household = await api.assessment("a", {"finances": 2})
    full = await _sync_all(client, world, headers)

    removed = await client.delete(
        f"{api.base('a')}/members/{child.id}",
        headers={**headers, "If-Match": f'"{child.id}.{child.version}"'},
    )
    assert removed.status_code == 204, removed.text
    changes = await _sync_all(client, world, headers, full["cursor"])
    gone = {(t["entity"], t["id"]) for t in changes["tombstones"]}
    # The child's assessment went with the child (ON DELETE CASCADE): the phone must drop it too.
    assert gone == {("member", str(child.id)), ("assessment", about_child["id"])}
    assert about_household["id"] not in {u["id"] for u in changes["upserts"]}
