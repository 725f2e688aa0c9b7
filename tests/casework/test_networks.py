"""The informal network map over HTTP: minimal data, If-Match, links from the plan."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from app.domain.unit_of_work.change_feed import CaseChange
from tests.casework.api import CaseApi, etag
from tests.casework.conftest import Cases


@pytest.fixture
def api(client: httpx.AsyncClient, cases: Cases) -> CaseApi:
    return CaseApi(client, cases)


async def test_crud_with_if_match(client: httpx.AsyncClient, cases: Cases, api: CaseApi) -> None:
    headers = await cases.headers("generalist_a")
    person = await api.person("a", support_kinds=["practical", "company", "practical"], reliability=4)
    assert person["support_kinds"] == ["practical", "company"]
    url = f"{api.base('a')}/network/{person['id']}"
    read = await client.get(url, headers=headers)
    assert read.headers["etag"] == etag(person)

    assert (await client.patch(url, headers=headers, json={"engaged": True})).status_code == 428
    updated = await client.patch(url, headers={**headers, "If-Match": etag(person)}, json={"engaged": True})
    assert updated.status_code == 200 and updated.json()["engaged"] is True
    assert updated.json()["version"] == person["version"] + 1
    stale = await client.patch(url, headers={**headers, "If-Match": etag(person)}, json={"reliability": 1})
    assert stale.status_code == 412
    nulled = await client.patch(
        url, headers={**headers, "If-Match": etag(updated.json())}, json={"relation": None}
    )
    assert nulled.status_code == 422 and nulled.json()["errors"][0]["rule"] == "null_not_allowed"

    assert (await client.delete(url, headers={**headers, "If-Match": etag(person)})).status_code == 412
    assert (
        await client.delete(url, headers={**headers, "If-Match": etag(updated.json())})
    ).status_code == 204
    assert (await client.get(url, headers=headers)).status_code == 404


@pytest.mark.parametrize(
    "label", ["Jan de Vries van nummer 12", "ans@example.nl", "06-12345678", "Piet Jansen Kerkstraat Utrecht"]
)
async def test_only_a_first_name_or_a_role(client: httpx.AsyncClient, cases: Cases, label: str) -> None:
    response = await client.post(
        f"/api/v1/households/{cases.hid('a')}/network",
        headers=await cases.headers("generalist_a"),
        json={"label": label, "relation": "neighbour"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "loc": ["body", "label"],
            "message": "Use a first name or a role only: no surname, numbers or contact details.",
            "rule": "label_not_minimal",
        }
    ]
    assert label not in response.text  # never echoed
    extra = await client.post(
        f"/api/v1/households/{cases.hid('a')}/network",
        headers=await cases.headers("generalist_a"),
        json={"label": "Ans", "relation": "neighbour", "phone": "0612345678"},
    )
    assert extra.status_code == 422 and "0612345678" not in extra.text


async def test_a_person_with_open_plan_work_stays_until_reassigned(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers("generalist_a")
    aunt = await api.person("a", label="tante Ria", relation="family")
    plan = await api.plan("a")
    action = await api.action("a", plan["id"], performer_kind="network_member", network_person_id=aunt["id"])
    url = f"{api.base('a')}/network/{aunt['id']}"
    refused = await client.delete(url, headers={**headers, "If-Match": etag(aunt)})
    assert refused.status_code == 409 and refused.json()["type"].endswith("network_person_has_open_actions")

    done = await client.patch(
        f"{api.base('a')}/plans/{plan['id']}/actions/{action['id']}",
        headers={**headers, "If-Match": etag(action)},
        json={"done": True},
    )
    assert done.status_code == 200
    assert (await client.delete(url, headers={**headers, "If-Match": etag(aunt)})).status_code == 204
    kept = await client.get(f"{api.base('a')}/plans/{plan['id']}/actions/{action['id']}", headers=headers)
    assert kept.json()["network_person_id"] is None  # the finished action stays, without the person


async def _plan_changes(cases: Cases, plan_id: str) -> int:
    async with cases.world.app.state.db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(CaseChange)
            .where(col(CaseChange.entity) == "plan", col(CaseChange.entity_id) == uuid.UUID(plan_id))
        )
    return int(count or 0)


async def test_removing_a_person_resends_the_plans_that_named_them(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers("generalist_a")
    friend = await api.person("a", label="Bram", relation="friend")
    older = await api.plan("a")
    await api.action("a", older["id"], performer_kind="network_member", network_person_id=friend["id"])
    newer = await api.plan("a")  # the older version, naming the friend, is history now
    untouched = (await _plan_changes(cases, older["id"]), await _plan_changes(cases, newer["id"]))
    url = f"{api.base('a')}/network/{friend['id']}"
    assert (await client.delete(url, headers={**headers, "If-Match": etag(friend)})).status_code == 204
    # The older version's action lost its performer (ON DELETE SET NULL): phones reload that version.
    assert await _plan_changes(cases, older["id"]) == untouched[0] + 1
    assert await _plan_changes(cases, newer["id"]) == untouched[1]


async def test_list_pages_in_order(client: httpx.AsyncClient, cases: Cases, api: CaseApi) -> None:
    headers = await cases.headers("generalist_a")
    made = [(await api.person("a", label=name))["id"] for name in ("Ans", "Bram", "Cor")]
    first = (await client.get(f"{api.base('a')}/network", headers=headers, params={"limit": 2})).json()
    second = (
        await client.get(f"{api.base('a')}/network", headers=headers, params={"cursor": first["next_cursor"]})
    ).json()
    assert [p["id"] for p in first["items"] + second["items"]] == made
    assert second["next_cursor"] is None
    forged = await client.get(f"{api.base('a')}/network", headers=headers, params={"cursor": "abc.def"})
    assert forged.status_code == 422 and forged.json()["errors"][0]["rule"] == "cursor_invalid"
