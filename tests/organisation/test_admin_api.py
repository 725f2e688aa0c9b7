"""Organisation set-up through the admin REST API: municipality, areas, teams, workers, partners."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from app.db import Database
from tests.factories import World, next_code
from tests.support.statements import counting_statements

API = "/api/v1"


async def _admin(world: World) -> dict[str, Any]:
    return await world.headers("admin")


def _rules(response: httpx.Response) -> list[tuple[list[Any], str]]:
    return [(e["loc"], e["rule"]) for e in response.json()["errors"]]


async def _walk(
    client: httpx.AsyncClient, path: str, headers: dict[str, Any], **params: Any
) -> list[dict[str, Any]]:
    """Every item of a list, page by page."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination does not end")


async def _new_municipality(client: httpx.AsyncClient, headers: dict[str, Any]) -> dict[str, Any]:
    n = next_code()
    response = await client.post(
        f"{API}/municipalities", headers=headers, json={"code": f"GM{n:04d}", "name": f"Gemeente {n}"}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


# -- municipality ----------------------------------------------------------------------------------


async def test_municipality_create_read_rename(client: httpx.AsyncClient, world: World) -> None:
    headers = await _admin(world)
    created = await _new_municipality(client, headers)
    again = await client.post(
        f"{API}/municipalities", headers=headers, json={"code": created["code"], "name": "x"}
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:wijkwerk:problem:municipality_code_taken"

    bad = await client.post(f"{API}/municipalities", headers=headers, json={"code": "GM12", "name": "x"})
    assert bad.status_code == 422
    assert _rules(bad) == [(["body", "code"], "cbs_code_format")]

    extra = await client.post(
        f"{API}/municipalities",
        headers=headers,
        json={"code": "GM0001", "name": "x", "id": str(uuid.uuid4())},
    )
    assert extra.status_code == 422

    renamed = await client.patch(
        f"{API}/municipalities/{created['id']}", headers=headers, json={"name": "Gemeente Waddenmeer"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Gemeente Waddenmeer"
    assert renamed.json()["code"] == created["code"]
    null = await client.patch(f"{API}/municipalities/{created['id']}", headers=headers, json={"name": None})
    assert null.status_code == 422
    assert _rules(null) == [(["body", "name"], "not_nullable")]
    read = await client.get(f"{API}/municipalities/{created['id']}", headers=headers)
    assert read.json()["name"] == "Gemeente Waddenmeer"


# -- areas -----------------------------------------------------------------------------------------


async def test_areas_follow_cbs_codes_and_nesting(client: httpx.AsyncClient, world: World) -> None:
    headers = await _admin(world)
    municipality = await _new_municipality(client, headers)
    digits = municipality["code"][2:]
    post = f"{API}/areas"
    wijk = await client.post(
        post,
        headers=headers,
        json={"municipality_id": municipality["id"], "code": f"WK{digits}01", "name": "Poort"},
    )
    assert wijk.status_code == 201, wijk.text
    assert wijk.json()["level"] == "wijk"
    assert wijk.json()["parent_id"] is None

    # A buurt without parent_id lands under the wijk its code continues.
    buurt = await client.post(
        post,
        headers=headers,
        json={"municipality_id": municipality["id"], "code": f"BU{digits}0101", "name": "Noord"},
    )
    assert buurt.status_code == 201, buurt.text
    assert buurt.json()["parent_id"] == wijk.json()["id"]
    assert buurt.json()["level"] == "buurt"
    assert buurt.json()["team_id"] is None

    cases = [
        ({"code": f"BU{digits}0201", "parent_id": wijk.json()["id"]}, (["body", "code"], "cbs_code_nesting")),
        ({"code": f"BU{digits}0301"}, (["body", "parent_id"], "buurt_needs_wijk")),
        ({"code": "WK000101"}, (["body", "code"], "cbs_code_nesting")),
        (
            {"code": f"WK{digits}02", "parent_id": wijk.json()["id"]},
            (["body", "parent_id"], "wijk_has_no_parent"),
        ),
        (
            {"code": f"BU{digits}0102", "parent_id": buurt.json()["id"]},
            (["body", "parent_id"], "parent_not_wijk"),
        ),
        ({"code": "XX1"}, (["body", "code"], "cbs_code_format")),
        (
            {"code": f"BU{digits}0102", "parent_id": world.wijken[0].id.hex},
            (["body", "parent_id"], "unknown_area"),
        ),
    ]
    for extra, expected in cases:
        body = {"municipality_id": municipality["id"], "name": "x", **extra}
        response = await client.post(post, headers=headers, json=body)
        assert response.status_code == 422, (extra, response.text)
        assert _rules(response) == [expected], extra

    duplicate = await client.post(
        post,
        headers=headers,
        json={"municipality_id": municipality["id"], "code": f"BU{digits}0101", "name": "y"},
    )
    assert duplicate.status_code == 409
    unknown = await client.post(
        post,
        headers=headers,
        json={"municipality_id": str(uuid.uuid4()), "code": f"WK{digits}09", "name": "y"},
    )
    assert _rules(unknown) == [(["body", "municipality_id"], "unknown_municipality")]

    renamed = await client.patch(
        f"{API}/areas/{buurt.json()['id']}", headers=headers, json={"name": "Nijlân"}
    )
    assert renamed.json()["name"] == "Nijlân"
    recode = await client.patch(
        f"{API}/areas/{buurt.json()['id']}", headers=headers, json={"code": "BU00000000"}
    )
    assert recode.status_code == 422  # codes are fixed

    listed = await _walk(client, post, headers, municipality_id=municipality["id"], limit=1)
    assert [a["code"] for a in listed] == [f"BU{digits}0101", f"WK{digits}01"]
    only_buurten = await _walk(client, post, headers, parent_id=wijk.json()["id"])
    assert [a["code"] for a in only_buurten] == [f"BU{digits}0101"]


async def test_area_reads_name_the_covering_team(client: httpx.AsyncClient, world: World) -> None:
    headers = await _admin(world)
    read = await client.get(f"{API}/areas/{world.buurten[0].id}", headers=headers)
    assert read.json()["team_id"] == str(world.teams["a"].id)
    listed = await _walk(
        client, f"{API}/areas", headers, municipality_id=str(world.municipality.id), level="buurt"
    )
    assert {a["code"]: a["team_id"] for a in listed} == {
        b.code: str(world.teams["a" if i < 2 else "b"].id) for i, b in enumerate(world.buurten)
    }


async def test_cursors_are_checked(client: httpx.AsyncClient, world: World) -> None:
    headers = await _admin(world)
    garbage = await client.get(f"{API}/areas", headers=headers, params={"cursor": "abc.def"})
    assert garbage.status_code == 422
    assert _rules(garbage) == [(["query", "cursor"], "cursor_invalid")]
    page = (await client.get(f"{API}/teams", headers=headers, params={"limit": 1})).json()
    assert page["next_cursor"]
    other_list = await client.get(f"{API}/areas", headers=headers, params={"cursor": page["next_cursor"]})
    assert other_list.status_code == 422
    too_many = await client.get(f"{API}/areas", headers=headers, params={"limit": 101})
    assert too_many.status_code == 422


# -- teams -----------------------------------------------------------------------------------------


async def test_a_buurt_belongs_to_at_most_one_team(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    headers = await _admin(world)
    body = {
        "municipality_id": str(world.municipality.id),
        "name": "Team C",
        "buurt_ids": [str(world.buurten[0].id)],
    }
    taken = await client.post(f"{API}/teams", headers=headers, json=body)
    assert taken.status_code == 409
    assert taken.json()["type"] == "urn:wijkwerk:problem:buurt_covered_by_one_team"

    team = await client.post(f"{API}/teams", headers=headers, json={**body, "buurt_ids": []})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    duplicate_name = await client.post(f"{API}/teams", headers=headers, json={**body, "buurt_ids": []})
    assert duplicate_name.status_code == 409

    add = f"{API}/teams/{team_id}/buurten"
    assert (
        await client.post(add, headers=headers, json={"buurt_id": str(world.buurten[0].id)})
    ).status_code == 409
    released = await client.delete(
        f"{API}/teams/{world.teams['a'].id}/buurten/{world.buurten[0].id}", headers=headers
    )
    assert released.status_code == 200
    assert released.json()["buurt_ids"] == [str(world.buurten[1].id)]
    covered = await client.post(add, headers=headers, json={"buurt_id": str(world.buurten[0].id)})
    assert covered.status_code == 200
    assert covered.json()["buurt_ids"] == [str(world.buurten[0].id)]
    again = await client.post(add, headers=headers, json={"buurt_id": str(world.buurten[0].id)})
    assert again.status_code == 200  # covering a buurt the team already covers changes nothing

    wijk = await client.post(add, headers=headers, json={"buurt_id": str(world.wijken[0].id)})
    assert _rules(wijk) == [(["body", "buurt_id"], "not_a_buurt")]
    foreign = await World.create(app)  # a buurt of another municipality is unknown to this team
    elsewhere = await client.post(add, headers=headers, json={"buurt_id": str(foreign.buurten[0].id)})
    assert _rules(elsewhere) == [(["body", "buurt_id"], "unknown_buurt")]
    missing = await client.delete(f"{API}/teams/{team_id}/buurten/{world.buurten[3].id}", headers=headers)
    assert missing.status_code == 404

    renamed = await client.patch(f"{API}/teams/{team_id}", headers=headers, json={"name": "Team Huizum"})
    assert renamed.json()["name"] == "Team Huizum"
    clash = await client.patch(
        f"{API}/teams/{team_id}", headers=headers, json={"name": world.teams["b"].name}
    )
    assert clash.status_code == 409


async def test_team_list_reads_coverage_in_constant_queries(
    app: FastAPI, client: httpx.AsyncClient, world: World, db: Database
) -> None:
    headers = await _admin(world)
    await World.create(app)
    counts = []
    for limit in (1, 4):
        params = {"municipality_id": str(world.municipality.id), "limit": limit}
        with counting_statements(db) as statements:
            response = await client.get(f"{API}/teams", headers=headers, params=params)
        assert response.status_code == 200
        counts.append(len([s for s in statements if "team" in s.lower()]))
    teams = response.json()["items"]
    assert {t["name"]: len(t["buurt_ids"]) for t in teams} == {
        world.teams["a"].name: 2,
        world.teams["b"].name: 2,
    }
    assert counts[0] == counts[1]


# -- workers ---------------------------------------------------------------------------------------


async def test_workers_with_specialisms_and_teams(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    headers = await _admin(world)
    team_a, team_b = str(world.teams["a"].id), str(world.teams["b"].id)
    body = {
        "name": "Generalist C",
        "role": "generalist",
        "specialisms": [" Debts", "debts", "Youth"],
        "team_ids": [team_a],
    }
    created = await client.post(f"{API}/workers", headers=headers, json=body)
    assert created.status_code == 201, created.text
    worker = created.json()
    assert worker["specialisms"] == ["debts", "youth"]
    assert worker["team_ids"] == [team_a]
    assert worker["active"] is True

    unknown = await client.post(
        f"{API}/workers", headers=headers, json={**body, "team_ids": [team_a, str(uuid.uuid4())]}
    )
    assert _rules(unknown) == [(["body", "team_ids", 1], "unknown_team")]
    bad_role = await client.post(f"{API}/workers", headers=headers, json={**body, "role": "admin"})
    assert bad_role.status_code == 422
    assert "admin" not in bad_role.text  # the submitted value is never echoed

    moved = await client.patch(
        f"{API}/workers/{worker['id']}",
        headers=headers,
        json={"team_ids": [team_b], "role": "team_lead", "email": "c@example.nl"},
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["team_ids"], moved.json()["role"]) == ([team_b], "team_lead")
    cleared = await client.patch(
        f"{API}/workers/{worker['id']}", headers=headers, json={"email": None, "active": False}
    )
    assert (cleared.json()["email"], cleared.json()["active"]) == (None, False)

    with counting_statements(db) as statements:
        members = await _walk(client, f"{API}/workers", headers, team_id=team_b, limit=2)
    workers_b = [world.people[n].worker for n in ("generalist_b", "team_lead_b")]
    team_b_workers = {w.name for w in workers_b if w is not None}
    assert len(team_b_workers) == 2
    assert {w["name"] for w in members} == {"Generalist C", *team_b_workers}
    assert len(statements) == 2 * 2, statements  # per page: the page and its memberships
    inactive = await _walk(client, f"{API}/workers", headers, team_id=team_b, active="false")
    assert [w["id"] for w in inactive] == [worker["id"]]


# -- partner organisations -------------------------------------------------------------------------


async def test_partner_organisations(client: httpx.AsyncClient, world: World) -> None:
    headers = await _admin(world)
    created = await client.post(
        f"{API}/partner-organisations", headers=headers, json={"name": "Woonbedrijf Poort", "kind": "housing"}
    )
    assert created.status_code == 201
    partner = created.json()
    bad = await client.post(
        f"{API}/partner-organisations", headers=headers, json={"name": "x", "kind": "bank"}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "kind"]
    updated = await client.patch(
        f"{API}/partner-organisations/{partner['id']}",
        headers=headers,
        json={"kind": "welfare", "active": False},
    )
    assert (updated.json()["kind"], updated.json()["active"]) == ("welfare", False)
    read = await client.get(f"{API}/partner-organisations/{partner['id']}", headers=headers)
    assert read.json() == updated.json()


async def test_control_characters_are_refused_not_stored(client: httpx.AsyncClient, world: World) -> None:
    """PostgreSQL text cannot hold NUL: such input is a 422 naming the field, never a 500."""
    headers = await _admin(world)
    cases = [
        ("/partner-organisations", {"name": "Schuld\x00hulp", "kind": "debt_help"}, ["body", "name"]),
        (
            "/workers",
            {"name": "W", "role": "generalist", "specialisms": ["a\x00"]},
            ["body", "specialisms", 0],
        ),
        ("/workers", {"name": "W", "role": "generalist", "email": "a\x00@b.nl"}, ["body", "email"]),
        (
            "/users",
            {"username": "u1x", "display_name": "U", "role": "resident", "external_subject": "\x00"},
            ["body", "external_subject"],
        ),
    ]
    for path, body, loc in cases:
        response = await client.post(f"{API}{path}", headers=headers, json=body)
        assert response.status_code == 422, (path, response.text)
        assert [e["loc"] for e in response.json()["errors"]] == [loc]
        assert "\x00" not in response.text and "\\u0000" not in response.text
