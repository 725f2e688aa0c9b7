"""Offline edits in one round trip (``POST /api/v1/sync/edits``): each edit is applied or refused on its
own, by the route it stands for, with its own Idempotency-Key; a conflict comes back with the object as
it is now; nobody reaches through it what they could not reach alone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.domain.households.models import ContactMoment, Member
from app.domain.unit_of_work.access_log import AccessLogEntry
from tests.factories import World
from tests.households.support import create_household

URL = "/api/v1/sync/edits"
NOBODY = "00000000-0000-0000-0000-000000000000"


def _contact(household_id: str, key: str, note: str = "Huisbezoek") -> dict[str, Any]:
    return {
        "key": key,
        "method": "POST",
        "path": f"/api/v1/households/{household_id}/contacts",
        "body": {"kind": "home_visit", "occurred_at": "2026-11-30T10:00:00Z", "minutes": 30, "note": note},
    }


async def _member(client: httpx.AsyncClient, world: World, household_id: str) -> httpx.Response:
    response = await client.post(
        f"/api/v1/households/{household_id}/members",
        json={"given_name": "Fatima", "role": "parent"},
        headers=await world.headers("generalist_a"),
    )
    assert response.status_code == 201, response.text
    return response


async def _count(world: World, model: Any, *where: Any) -> int:
    async with world.app.state.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_each_edit_is_applied_or_refused_on_its_own_and_a_retry_applies_nothing_twice(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world)
    hid = household["id"]
    member = await _member(client, world, hid)
    member_path = f"/api/v1/households/{hid}/members/{member.json()['id']}"
    # Someone else changed the member while the phone was offline: the phone's If-Match is stale now.
    changed = await client.patch(
        member_path,
        json={"family_name": "El Amrani"},
        headers={**await world.headers("generalist_a2"), "If-Match": member.headers["etag"]},
    )
    assert changed.status_code == 200
    edits = [
        _contact(hid, "phone-1"),
        {
            "key": "phone-2",
            "method": "PATCH",
            "path": member_path,
            "if_match": member.headers["etag"],
            "body": {"given_name": "Fatma"},
        },
        {**_contact(hid, "phone-3"), "body": {"kind": "home_visit", "occurred_at": "gisteren"}},
        _contact(hid, "phone-4", note="Tweede bezoek"),
    ]
    headers = await world.headers("generalist_a")
    response = await client.post(URL, json={"edits": edits}, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 412, 422, 201]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    created = results[0]
    assert created["body"]["note"] == "Huisbezoek" and created["location"].endswith(created["body"]["id"])
    # The conflict says what the member is now, so the app can merge and send the edit again.
    conflict = results[1]
    assert conflict["body"]["type"] == "urn:wijkwerk:problem:stale_version"
    assert conflict["current"]["etag"] == changed.headers["etag"]
    assert conflict["current"]["body"]["family_name"] == "El Amrani"
    assert conflict["current"]["body"]["given_name"] == "Fatima"
    invalid = results[2]["body"]
    assert invalid["errors"][0]["loc"][-1] == "occurred_at" and "gisteren" not in results[2]["body"]["detail"]
    assert await _count(world, ContactMoment, ContactMoment.household_id == household["id"]) == 2

    # The answer was lost on the way: the phone sends the same queue again. Nothing is applied twice.
    again = (await client.post(URL, json={"edits": edits}, headers=headers)).json()["results"]
    assert [r["status"] for r in again] == [201, 412, 422, 201]
    assert [r["replayed"] for r in again] == [True, False, False, True]
    assert again[0]["body"] == created["body"]
    assert await _count(world, ContactMoment, ContactMoment.household_id == household["id"]) == 2


async def test_an_edit_sent_alone_first_is_not_applied_again_in_an_upload(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world)
    edit = _contact(household["id"], "sent-alone-first")
    headers = await world.headers("generalist_a")
    alone = await client.post(
        edit["path"], json=edit["body"], headers={**headers, "Idempotency-Key": edit["key"]}
    )
    assert alone.status_code == 201
    result = (await client.post(URL, json={"edits": [edit]}, headers=headers)).json()["results"][0]
    assert result["replayed"] and result["body"]["id"] == alone.json()["id"]
    assert await _count(world, ContactMoment, ContactMoment.household_id == household["id"]) == 1


async def test_every_edit_leaves_its_own_access_log_entry(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world)
    before = await _count(world, AccessLogEntry, AccessLogEntry.household_id == household["id"])
    edits = [_contact(household["id"], f"log-{i}") for i in range(3)]
    response = await client.post(URL, json={"edits": edits}, headers=await world.headers("generalist_a"))
    assert [r["status"] for r in response.json()["results"]] == [201, 201, 201]
    logged = await _count(world, AccessLogEntry, AccessLogEntry.household_id == household["id"])
    assert logged - before == 3


async def test_another_teams_household_stays_missing_through_an_upload(
    client: httpx.AsyncClient, world: World
) -> None:
    theirs = await create_household(client, world, actor="generalist_b", team="b")
    member = await _member(client, world, (await create_household(client, world))["id"])
    edits = [
        _contact(theirs["id"], "other-team-1"),
        {
            "key": "other-team-2",
            "method": "DELETE",
            "path": f"/api/v1/households/{theirs['id']}/members/{member.json()['id']}",
            "if_match": member.headers["etag"],
        },
    ]
    response = await client.post(URL, json={"edits": edits}, headers=await world.headers("generalist_a"))
    results = response.json()["results"]
    assert [r["status"] for r in results] == [404, 404]
    assert all(r["current"] is None for r in results)
    assert await _count(world, ContactMoment, ContactMoment.household_id == theirs["id"]) == 0
    assert await _count(world, Member, Member.id == member.json()["id"]) == 1


@pytest.mark.parametrize("actor", ["resident", "network_coordinator", "privacy_officer", "admin"])
async def test_callers_without_case_writes_cannot_upload(
    client: httpx.AsyncClient, world: World, actor: str
) -> None:
    household = await create_household(client, world)
    edits = [_contact(household["id"], "not-mine")]
    response = await client.post(URL, json={"edits": edits}, headers=await world.headers(actor))
    assert response.status_code == 403
    assert await _count(world, ContactMoment, ContactMoment.household_id == household["id"]) == 0


@pytest.mark.parametrize("client_name", ["partner_a", "analyst"])
async def test_machine_clients_cannot_upload(
    client: httpx.AsyncClient, world: World, client_name: str
) -> None:
    household = await create_household(client, world)
    edits = [_contact(household["id"], "machine")]
    response = await client.post(URL, json={"edits": edits}, headers=await world.headers(client_name))
    assert response.status_code == 403
    assert await _count(world, ContactMoment, ContactMoment.household_id == household["id"]) == 0


async def test_an_anonymous_upload_is_refused(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world)
    response = await client.post(URL, json={"edits": [_contact(household["id"], "anonymous")]})
    assert response.status_code == 401
    assert await _count(world, ContactMoment, ContactMoment.household_id == household["id"]) == 0


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"method": "POST", "path": "/api/v1/sync/edits", "body": {}}, "path"),
        ({"method": "POST", "path": "/oauth/token", "body": {}}, "path"),
        ({"method": "GET", "path": f"/api/v1/households/{NOBODY}"}, "method"),
        (
            {
                "method": "DELETE",
                "path": "/api/v1/households/00000000-0000-0000-0000-000000000000",
                "body": {},
            },
            0,  # a rule over two fields: named at the edit
        ),
    ],
)
async def test_only_case_writes_can_be_queued(
    client: httpx.AsyncClient, world: World, edit: dict[str, Any], field: str | int
) -> None:
    response = await client.post(
        URL, json={"edits": [{"key": "k", **edit}]}, headers=await world.headers("generalist_a")
    )
    assert response.status_code == 422, response.text
    assert any(e["loc"][-1] == field for e in response.json()["errors"])
