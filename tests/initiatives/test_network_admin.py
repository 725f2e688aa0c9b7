"""Administrators set up resident networks over REST: create, read, list, rename, change buurten.

They see buurten and member counts, never who the members are; every other role is refused.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.factories import World, next_code
from tests.initiatives.factories import make_networks
from tests.organisation.support import NOT_ADMINS, send
from tests.support.statements import counting_statements

URL = "/api/v1/resident-networks"
REFUSED = [*NOT_ADMINS, "generalist_b", "team_lead_b", "partner_b"]
CONTACT = "secret.person@example.org"


def _members(residents: int = 2, others: int = 1) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = [
        {"display_name": "Coördinator", "is_resident": True, "role": "coordinator", "email": CONTACT}
    ]
    members += [{"display_name": f"Bewoner {i}", "is_resident": True} for i in range(residents - 1)]
    members += [
        {"display_name": f"Partner {i}", "is_resident": False, "phone": "+31 6 1111 2222"}
        for i in range(others)
    ]
    return members


def _body(world: World, name: str | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "municipality_id": str(world.municipality.id),
        "name": name or f"Buurtnetwerk {next_code()}",
        "buurten": [b.code for b in world.buurten[:2]],
        "members": _members(),
        **changes,
    }


async def _create(client: httpx.AsyncClient, world: World, **changes: Any) -> httpx.Response:
    return await client.post(URL, json=_body(world, **changes), headers=await world.headers("admin"))


def _problem(response: httpx.Response, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:wijkwerk:problem:{rule}" or rule in [e["rule"] for e in body["errors"]]
    return body


async def test_admin_creates_reads_and_lists_a_network(client: httpx.AsyncClient, world: World) -> None:
    created = await _create(client, world, name="Buurtnetwerk De Linde")
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"{URL}/{body['id']}"
    assert created.headers["etag"] == f'"{body["id"]}.1"'
    assert body["name"] == "Buurtnetwerk De Linde"
    assert [b["code"] for b in body["buurten"]] == sorted(b.code for b in world.buurten[:2])
    assert (body["member_count"], body["resident_count"]) == (3, 2)
    assert CONTACT not in created.text and "display_name" not in created.text  # no member details

    admin = await world.headers("admin")
    read = await client.get(created.headers["location"], headers=admin)
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["etag"] == created.headers["etag"]

    listed = await client.get(URL, params={"municipality_id": str(world.municipality.id)}, headers=admin)
    assert listed.status_code == 200
    assert listed.json() == {"items": [body], "next_cursor": None}
    assert CONTACT not in listed.text and "+31" not in listed.text


async def test_list_pages_by_name_with_constant_statements(
    app: Any, client: httpx.AsyncClient, world: World
) -> None:
    admin = await world.headers("admin")
    for name in ("C-netwerk", "A-netwerk", "B-netwerk"):
        assert (await _create(client, world, name=name)).status_code == 201
    params: dict[str, Any] = {"municipality_id": str(world.municipality.id), "limit": 2}
    with counting_statements(app.state.db) as statements:
        first = await client.get(URL, params=params, headers=admin)
    assert [n["name"] for n in first.json()["items"]] == ["A-netwerk", "B-netwerk"]
    second = await client.get(URL, params={**params, "cursor": first.json()["next_cursor"]}, headers=admin)
    assert [n["name"] for n in second.json()["items"]] == ["C-netwerk"]
    assert second.json()["next_cursor"] is None
    with counting_statements(app.state.db) as single:
        await client.get(URL, params={**params, "limit": 1}, headers=admin)
    assert len(statements) == len(single)  # areas and counts per page, not per network

    forged = await client.get(URL, params={"cursor": "bm9wZQ.0000"}, headers=admin)
    assert _problem(forged, 422, "cursor_invalid")["errors"][0]["loc"] == ["query", "cursor"]


async def test_unknown_buurt_is_422_naming_the_field_without_echo(
    client: httpx.AsyncClient, world: World
) -> None:
    other = await World.create(world.app)  # a buurt of another municipality is just as unknown
    for codes in (["BU99999999"], [world.buurten[0].code, other.buurten[0].code]):
        response = await _create(client, world, buurten=codes)
        body = _problem(response, 422, "unknown_buurt")
        assert [e["loc"] for e in body["errors"]] == [["body", "buurten"]]
        assert all(code not in response.text for code in codes)
    missing = await _create(client, world, buurten=[])
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"][:2] == ["body", "buurten"]


async def test_resident_majority_coordinator_and_name_are_409(
    client: httpx.AsyncClient, world: World
) -> None:
    minority = await _create(client, world, members=_members(residents=1, others=2))
    _problem(minority, 409, "network_resident_majority")
    no_lead = [{"display_name": "Bewoner", "is_resident": True}]
    _problem(await _create(client, world, members=no_lead), 409, "network_needs_coordinator")

    assert (await _create(client, world, name="Netwerk Oost")).status_code == 201
    taken = await _create(client, world, name="Netwerk Oost")
    assert "Netwerk Oost" not in _problem(taken, 409, "network_name_taken")["detail"]
    # Nothing of the refused attempts was written.
    listed = await client.get(
        URL, params={"municipality_id": str(world.municipality.id)}, headers=await world.headers("admin")
    )
    assert [n["name"] for n in listed.json()["items"]] == ["Netwerk Oost"]


async def test_admin_renames_and_moves_a_network_with_if_match(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = await world.headers("admin")
    created = (await _create(client, world)).json()
    path, etag = f"{URL}/{created['id']}", f'"{created["id"]}.1"'
    body = {"name": "Wijknetwerk Centrum", "buurten": [world.buurten[1].code, world.buurten[2].code]}

    _problem(await client.patch(path, json=body, headers=admin), 428, "if_match_required")
    updated = await client.patch(path, json=body, headers={**admin, "If-Match": etag})
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Wijknetwerk Centrum"
    assert [b["code"] for b in updated.json()["buurten"]] == sorted(body["buurten"])
    assert updated.json()["version"] == 2
    assert updated.headers["etag"] == f'"{created["id"]}.2"'
    stale = await client.patch(path, json={"name": "Ander"}, headers={**admin, "If-Match": etag})
    _problem(stale, 412, "stale_version")

    fresh = {**admin, "If-Match": updated.headers["etag"]}
    unknown = await client.patch(path, json={"buurten": ["BU00000000"]}, headers=fresh)
    assert [e["loc"] for e in _problem(unknown, 422, "unknown_buurt")["errors"]] == [["body", "buurten"]]
    nobody = uuid.uuid4()
    missing = await client.patch(
        f"{URL}/{nobody}", json={"name": "x"}, headers={**admin, "If-Match": f'"{nobody}.1"'}
    )
    _problem(missing, 404, "not_found")
    _problem(await client.get(f"{URL}/{nobody}", headers=admin), 404, "not_found")


async def test_renaming_to_a_taken_name_and_dropping_a_busy_buurt_are_409(
    client: httpx.AsyncClient, world: World
) -> None:
    networks = await make_networks(world)  # A over buurten[0:2], B over buurten[2:4]
    await networks.initiatives("a", 1, status="running", buurt=0)
    admin = await world.headers("admin")
    read = await client.get(f"{URL}/{networks.a}", headers=admin)
    assert (read.json()["member_count"], read.json()["resident_count"]) == (3, 2)
    headers = {**admin, "If-Match": read.headers["etag"]}
    taken = (await client.get(f"{URL}/{networks.b}", headers=admin)).json()["name"]

    _problem(
        await client.patch(f"{URL}/{networks.a}", json={"name": taken}, headers=headers),
        409,
        "network_name_taken",
    )
    busy = await client.patch(
        f"{URL}/{networks.a}", json={"buurten": [world.buurten[1].code]}, headers=headers
    )
    _problem(busy, 409, "network_buurt_in_use")
    # A buurt without open initiatives may go; the version had not moved after the refusals.
    moved = await client.patch(
        f"{URL}/{networks.a}", json={"buurten": [world.buurten[0].code]}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    assert [b["code"] for b in moved.json()["buurten"]] == [world.buurten[0].code]


async def test_every_other_role_is_refused(client: httpx.AsyncClient, world: World) -> None:
    created = (await _create(client, world)).json()
    path = f"{URL}/{created['id']}"
    requests = [("GET", URL), ("POST", URL), ("GET", path), ("PATCH", path)]
    for actor in REFUSED:
        headers = {**await world.headers(actor), "If-Match": f'"{created["id"]}.1"'}
        for method, target in requests:
            response = await send(client, method, target, headers)
            assert response.status_code == 403, (actor, method, target, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert created["name"] not in response.text
        valid = await client.post(URL, json=_body(world), headers=headers)
        assert valid.status_code == 403, actor
    for method, target in requests:
        response = await send(client, method, target, {})
        assert response.status_code == 401, (method, target)
        assert response.headers["www-authenticate"].startswith("Bearer")
    # Nothing changed: still the one network, at version 1.
    read = await client.get(path, headers=await world.headers("admin"))
    assert read.json()["version"] == 1
