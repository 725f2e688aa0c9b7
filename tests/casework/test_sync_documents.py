"""The documents PostgreSQL builds for the sync page are the REST reads, field for field.

The sync page does not load models and serialise them: each context declares its entity's document as
SQL (``SyncEntity.documents``), built from the fields of the read schema the REST route answers with.
This test holds the two to each other for every entity the phone syncs: a document that drifts from
its REST read (a field renamed, a timestamp formatted otherwise, a list ordered otherwise, a masked
field unmasked) fails here.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.domain.households.models import HouseholdStatus
from tests.casework.api import WRITER, CaseApi
from tests.casework.conftest import Cases
from tests.factories import World
from tests.households.support import sync_all
from tests.worklist.support import days_later, listed_on, today, worklist_items


async def _case_file(
    client: httpx.AsyncClient, world: World, cases: Cases, **household_fields: Any
) -> dict[str, dict[str, Any]]:
    """One household with an object of every synced kind, each as its REST route answered on create."""
    api = CaseApi(client, cases)
    household = await cases.add("a", **household_fields)
    base = api.base("a")
    headers = await cases.headers(WRITER)
    parent = cases.members["a"][0]

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await client.post(base + path, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    contact = await post("/contacts", {"kind": "home_visit", "occurred_at": "2026-11-02T09:30:00+01:00"})
    member = await post("/members", {"given_name": "Noor", "role": "child", "birth_date": "2015-04-01"})
    consent = await post(
        "/consents",
        {
            "member_id": str(parent.id),
            "organisation_id": str(world.organisations["a"].id),
            "purpose": "finances",
            "categories": ["identity", "address"],
            "valid_until": today(60).isoformat(),  # listed from day 30 to day 60 (worklist)
        },
    )
    referral = await post(
        "/referrals",
        {
            "member_id": str(parent.id),
            "organisation_id": str(world.organisations["a"].id),
            "reason_domain": "finances",
            "description": "Schuldhulp gewenst.",
            "legal_basis": "consent",
        },
    )
    return {
        "household": {"id": str(household.id), "path": ""},
        "member": {"id": member["id"], "path": f"/members/{member['id']}"},
        "contact_moment": {"id": contact["id"], "path": "/contacts"},
        "assessment": {"id": (a := await api.assessment("a"))["id"], "path": f"/assessments/{a['id']}"},
        "plan": {"id": (p := await api.plan("a"))["id"], "path": f"/plans/{p['id']}"},
        "network_person": {"id": (n := await api.person("a"))["id"], "path": f"/network/{n['id']}"},
        "consent": {"id": consent["id"], "path": f"/consents/{consent['id']}"},
        "referral": {"id": referral["id"], "path": "/referrals"},
    }


async def _rest_read(client: httpx.AsyncClient, url: str, headers: dict[str, Any], item_id: str) -> Any:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    if isinstance(body, dict) and "items" in body:  # a list route: the object's item
        [body] = [item for item in body["items"] if item["id"] == item_id]
    return body


async def test_every_synced_document_is_its_rest_read(client: httpx.AsyncClient, world: World) -> None:
    cases = Cases(world)
    made = await _case_file(client, world, cases)
    derived = {"worklist"}  # of the household's objects: held to the worklist route below
    assert set(made) | derived == world.app.state.wiring.sync.names(), "an entity the phone syncs is missing"

    synced = await sync_all(client, world, WRITER)
    headers = await cases.headers(WRITER)
    base = f"/api/v1/households/{cases.hid('a')}"
    for entity, where in made.items():
        document = synced["upserts"][(entity, where["id"])]["data"]
        rest = await _rest_read(client, base + where["path"], headers, where["id"])
        assert document == rest, entity


async def test_the_synced_worklist_lists_what_the_route_lists_on_every_day(
    client: httpx.AsyncClient, world: World
) -> None:
    """The household's worklist document, listed by a phone's calendar on day D, is the household's
    items of ``GET /api/v1/worklist`` on day D, item for item and field for field."""
    cases = Cases(world)
    involved = (WRITER, "generalist_a2")
    await _case_file(
        client, world, cases, coordinator=WRITER, assigned=involved[1:], status=HouseholdStatus.intake
    )
    household = str(cases.hid("a"))
    synced = await sync_all(client, world, WRITER)
    document = synced["upserts"][("worklist", household)]["data"]
    assert document["household_id"] == household
    workers = sorted(str(world.people[w].worker.id) for w in involved)  # type: ignore[union-attr]
    assert document["worker_ids"] == workers
    seen: set[str] = set()
    for days in (0, 11, 40, 100, 400):
        with days_later(days):
            for worker in involved:
                rest = await worklist_items(client, world, worker)
                mine = [item for item in rest if item["household_id"] == household]
                assert listed_on(document, today()) == mine, (days, worker)
                seen |= {item["kind"] for item in mine}
    assert {"no_contact", "plan_not_agreed", "referral_no_response", "consent_expiring"} <= seen
