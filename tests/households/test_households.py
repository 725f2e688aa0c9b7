"""Registering, reading, listing and updating households through the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from app.domain.households.models import ContactMoment
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.domain.unit_of_work.change_feed import CaseChange
from tests.factories import World
from tests.households.support import create_household, etag, household_body, worker_id


async def test_register_derives_team_and_reference(client: httpx.AsyncClient, world: World) -> None:
    created = await create_household(
        client, world, themes=["debts", "loneliness"], members=[{"given_name": "Ans", "role": "parent"}]
    )
    assert created["team_id"] == str(world.teams["a"].id)
    assert created["reference"].startswith("HH-") and len(created["reference"]) == 11
    assert created["postcode"] == "1234AB"
    assert created["status"] == "registered"
    assert created["coordinator_id"] == str(worker_id(world, "generalist_a"))
    assert created["themes"] == ["debts", "loneliness"]
    assert [m["given_name"] for m in created["members"]] == ["Ans"]
    read = await client.get(
        f"/api/v1/households/{created['id']}", headers=await world.headers("generalist_a")
    )
    assert read.status_code == 200
    assert read.headers["etag"] == f'"{created["id"]}.1"'
    assert read.json()["buurt_code"] == world.buurten[0].code


async def test_register_rules_are_named_without_echo(client: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("generalist_a")
    cases: list[tuple[dict[str, Any], list[str | int], str]] = [
        ({"buurt_code": "BU99999999"}, ["body", "buurt_code"], "unknown_buurt"),
        ({"buurt_code": world.buurten[2].code}, ["body", "buurt_code"], "buurt_of_other_team"),
        ({"team_id": str(world.teams["b"].id)}, ["body", "team_id"], "not_own_team"),
        ({"themes": ["debts", "no_such_theme"]}, ["body", "themes", 1], "unknown_theme"),
        ({"postcode": "0123ZZ"}, ["body", "postcode"], "postcode_format"),
        ({"surprise": True}, ["body", "surprise"], "extra_forbidden"),
        ({"reference": "HH-MINE"}, ["body", "reference"], "extra_forbidden"),
    ]
    for extra, loc, rule in cases:
        response = await client.post(
            "/api/v1/households", json=household_body(world, **extra), headers=headers
        )
        assert response.status_code == 422, (extra, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        errors = response.json()["errors"]
        assert {"loc": loc, "rule": rule} in [{"loc": e["loc"], "rule": e["rule"]} for e in errors], errors
        assert "no_such_theme" not in response.text and "0123ZZ" not in response.text


async def test_team_given_explicitly_may_differ_from_covering_team(
    client: httpx.AsyncClient, world: World
) -> None:
    # A worker of team A registers a household living in team B's buurt, for their own team.
    created = await create_household(
        client, world, buurt_code=world.buurten[2].code, team_id=str(world.teams["a"].id)
    )
    assert created["team_id"] == str(world.teams["a"].id)


async def test_lifecycle_through_patch(client: httpx.AsyncClient, world: World) -> None:
    created = await create_household(client, world)
    url = f"/api/v1/households/{created['id']}"
    worker = await world.headers("generalist_a")

    async def patch(body: dict[str, object], headers: dict[str, str] | None = None) -> httpx.Response:
        tag = await etag(client, world, created["id"])
        return await client.patch(url, json=body, headers={**(headers or worker), "If-Match": tag})

    illegal = await patch({"status": "aftercare"})
    assert illegal.status_code == 409
    assert illegal.json()["type"] == "urn:wijkwerk:problem:status_transition_not_allowed"
    for status in ("intake", "active", "aftercare", "active"):
        response = await patch({"status": status})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    no_reason = await patch({"status": "closed"})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["rule"] == "closing_reason_required"
    closed = await patch({"status": "closed", "closing_reason": "goals_reached"})
    assert closed.status_code == 200
    assert closed.json()["closing_reason"] == "goals_reached" and closed.json()["closed_at"]
    edit_closed = await patch({"house_number": 3})
    assert edit_closed.status_code == 409
    assert edit_closed.json()["type"] == "urn:wijkwerk:problem:household_closed"
    by_worker = await patch({"status": "intake"})
    assert by_worker.status_code == 403
    assert by_worker.json()["type"] == "urn:wijkwerk:problem:reopen_needs_team_lead"
    reopened = await patch({"status": "intake"}, await world.headers("team_lead_a"))
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["closing_reason"] is None and reopened.json()["closed_at"] is None


async def test_patch_fields_themes_and_nulls(client: httpx.AsyncClient, world: World) -> None:
    created = await create_household(client, world, themes=["debts"])
    url = f"/api/v1/households/{created['id']}"
    headers = await world.headers("generalist_a")
    tag = await etag(client, world, created["id"])
    response = await client.patch(
        url,
        json={
            "themes": ["loneliness", "parenting"],
            "house_number_addition": "bis",
            "buurt_code": world.buurten[1].code,
        },
        headers={**headers, "If-Match": tag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["themes"] == ["loneliness", "parenting"]
    assert body["house_number_addition"] == "bis"
    assert body["buurt_code"] == world.buurten[1].code
    assert body["version"] == 2 and response.headers["etag"] == f'"{created["id"]}.2"'
    nulls = await client.patch(
        url, json={"postcode": None}, headers={**headers, "If-Match": response.headers["etag"]}
    )
    assert nulls.status_code == 422 and nulls.json()["errors"][0]["rule"] == "null_not_allowed"
    server_owned = await client.patch(
        url, json={"version": 9}, headers={**headers, "If-Match": response.headers["etag"]}
    )
    assert server_owned.status_code == 422


async def test_lifting_confidentiality_is_for_team_leads(client: httpx.AsyncClient, world: World) -> None:
    created = await create_household(client, world, confidential=True)
    url = f"/api/v1/households/{created['id']}"
    tag = await etag(client, world, created["id"])
    worker = await client.patch(
        url, json={"confidential": False}, headers={**await world.headers("generalist_a"), "If-Match": tag}
    )
    assert worker.status_code == 403
    assert worker.json()["type"] == "urn:wijkwerk:problem:lifting_confidentiality_needs_team_lead"
    # The lead is not involved, so cannot open the file to lift it: 404 like any hidden household.
    lead = await client.patch(
        url, json={"confidential": False}, headers={**await world.headers("team_lead_a"), "If-Match": tag}
    )
    assert lead.status_code == 404


async def test_protecting_a_file_keeps_it_for_the_worker_who_did(
    client: httpx.AsyncClient, world: World
) -> None:
    created = await create_household(client, world)
    url = f"/api/v1/households/{created['id']}"
    tag = await etag(client, world, created["id"], "generalist_a2")
    response = await client.patch(
        url, json={"confidential": True}, headers={**await world.headers("generalist_a2"), "If-Match": tag}
    )
    assert response.status_code == 200
    assert (await client.get(url, headers=await world.headers("generalist_a2"))).status_code == 200
    assert (
        await client.get(url, headers=await world.headers("generalist_a"))
    ).status_code == 200  # coordinator
    assert (await client.get(url, headers=await world.headers("team_lead_a"))).status_code == 404


async def test_list_filters_and_pagination(client: httpx.AsyncClient, world: World) -> None:
    made = [await create_household(client, world, themes=["debts"] if i % 2 else []) for i in range(5)]
    confidential = await create_household(client, world, confidential=True)
    other_team = await create_household(client, world, "generalist_b", team="b")
    headers = await world.headers("generalist_a")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/households", params=params, headers=headers)).json()
        seen += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = [h["id"] for h in reversed([*made, confidential])]
    assert seen == expected  # newest first, no duplicates, no other team
    assert other_team["id"] not in seen
    themed = (await client.get("/api/v1/households", params={"theme": "debts"}, headers=headers)).json()
    assert {h["id"] for h in themed["items"]} == {made[1]["id"], made[3]["id"]}
    secret = (await client.get("/api/v1/households", params={"confidential": True}, headers=headers)).json()
    assert [h["id"] for h in secret["items"]] == [confidential["id"]]
    a2 = (await client.get("/api/v1/households", headers=await world.headers("generalist_a2"))).json()
    assert confidential["id"] not in {h["id"] for h in a2["items"]}
    by_coordinator = await client.get(
        "/api/v1/households",
        params={
            "coordinator": str(worker_id(world, "generalist_a")),
            "status": "registered",
            "buurt": world.buurten[0].code,
        },
        headers=headers,
    )
    assert len(by_coordinator.json()["items"]) == 6
    bad = await client.get("/api/v1/households", params={"cursor": "garbage"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "cursor_invalid"


async def test_search_by_reference_and_address_respects_visibility(
    client: httpx.AsyncClient, world: World
) -> None:
    created = await create_household(client, world, confidential=True)
    body = {"reference": created["reference"].lower()}
    found = await client.post(
        "/api/v1/households/search", json=body, headers=await world.headers("generalist_a")
    )
    assert [h["id"] for h in found.json()] == [created["id"]]
    hidden = await client.post(
        "/api/v1/households/search", json=body, headers=await world.headers("generalist_a2")
    )
    assert hidden.status_code == 200 and hidden.json() == []
    address = {"postcode": created["postcode"], "house_number": created["house_number"]}
    assert created["id"] in [
        h["id"]
        for h in (
            await client.post(
                "/api/v1/households/search", json=address, headers=await world.headers("generalist_a")
            )
        ).json()
    ]
    two = await client.post(
        "/api/v1/households/search", json={**body, **address}, headers=await world.headers("generalist_a")
    )
    assert two.status_code == 422 and two.json()["errors"][0]["rule"] == "search_criterion"


async def test_missing_household_is_404(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(
        f"/api/v1/households/{uuid.uuid4()}", headers=await world.headers("generalist_a")
    )
    assert response.status_code == 404
    assert response.json()["type"] == "urn:wijkwerk:problem:not_found"


async def test_the_intakes_first_contact_is_the_case_write_of_every_contact(
    client: httpx.AsyncClient, world: World
) -> None:
    """The quick intake's first contact goes through ``contacts.CREATE`` in the registration's
    transaction: its own access-log entry, its change row, and nothing left when the rest fails."""
    headers = await world.headers("generalist_a")
    note = f"Kennismaking {uuid.uuid4().hex[:8]}"
    contact = {"kind": "home_visit", "occurred_at": "2026-11-30T10:00:00+01:00", "minutes": 40, "note": note}
    body = household_body(world, members=[{"given_name": "Ans", "role": "parent"}], first_contact=contact)
    response = await client.post("/api/v1/households", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    first = created["first_contact"]
    assert created["status"] == "intake"
    assert (first["kind"], first["minutes"], first["note"]) == ("home_visit", 40, note)
    listed = await client.get(f"/api/v1/households/{created['id']}/contacts", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [first["id"]]
    async with world.app.state.db.transaction() as session:
        entries = await session.execute(
            sa.select(col(AccessLogEntry.resource), col(AccessLogEntry.action), col(AccessLogEntry.outcome))
            .where(col(AccessLogEntry.request_id) == response.headers["X-Request-ID"])
            .order_by(col(AccessLogEntry.resource))
        )
        assert [tuple(row) for row in entries] == [
            ("contact_moment", "create", "allowed"),
            ("household", "create", "allowed"),
        ]
        changes = await session.scalars(
            sa.select(col(CaseChange.entity_id)).where(
                col(CaseChange.household_id) == uuid.UUID(created["id"]),
                col(CaseChange.entity) == "contact_moment",
            )
        )
        assert [str(c) for c in changes] == [first["id"]]

    # Refused after the contact was written (the assessment names no member): nothing is left.
    assessment = {"member": 3, "scores": [{"domain": "finances", "score": 2}]}
    refused = household_body(world, first_contact=contact, assessment=assessment)
    answer = await client.post("/api/v1/households", json=refused, headers=headers)
    assert answer.status_code == 422, answer.text
    async with world.app.state.db.transaction() as session:
        notes = sa.select(sa.func.count()).select_from(ContactMoment).where(col(ContactMoment.note) == note)
        assert await session.scalar(notes) == 1  # the first registration's only
