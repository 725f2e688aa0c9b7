"""Who may maintain and who may read the sociale kaart: the administrator everything, a partner only its
own organisation's entries; non-public services and internal notes only for workers, administrators
and the organisation itself; the stale worklist only for the administrator."""

from __future__ import annotations

import httpx
import pytest

from tests.directory.support import BASE, Directory, if_match, make_directory
from tests.factories import World

READERS_OF_PUBLIC = ("anonymous", "analyst", "resident", "network_coordinator", "partner_b")


@pytest.fixture
async def directory(world: World, client: httpx.AsyncClient) -> Directory:
    return await make_directory(world, client)


async def _patch(
    d: Directory, actor: str, key: str, body: dict[str, object], etag: str | None = None
) -> httpx.Response:
    headers = await d.world.headers(actor)
    if etag is not None:
        headers["If-Match"] = etag
    return await d.client.patch(f"{BASE}/services/{d.id(key)}", json=body, headers=headers)


async def _etag(d: Directory, key: str) -> str:
    response = await d.client.get(f"{BASE}/services/{d.id(key)}", headers=await d.world.headers("admin"))
    return response.headers["ETag"]


async def test_a_partner_maintains_its_own_services_only(directory: Directory) -> None:
    d = directory
    etag = await _etag(d, "debt_a")
    other = await _patch(d, "partner_b", "debt_a", {"name": "Overgenomen"}, etag)
    assert other.status_code == 404  # another partner's service looks missing
    own = await _patch(d, "partner_a", "debt_a", {"name": "Schuldhulp Noord"}, etag)
    assert own.status_code == 200, own.text
    assert own.json()["name"] == "Schuldhulp Noord" and own.json()["version"] == 2
    # Nor can B add a service to A's organisation, or verify A's.
    created = await d.post("partner_b", "/services", {"organization_id": d.organizations["a"], "name": "X"})
    assert created.status_code == 422 and created.json()["errors"][0]["rule"] == "unknown_organization"
    assured = await d.client.post(
        f"{BASE}/services/{d.id('debt_a')}/assurance",
        json={},
        headers=await if_match(d.world, "partner_b", own.headers["ETag"]),
    )
    assert assured.status_code == 404
    # A partner adds services to its own organisation, never organisations.
    await d.service("new_a", "a", actor="partner_a")
    refused = await d.post(
        "partner_a", "/organizations", {"municipality": d.world.municipality.code, "name": "Y"}
    )
    assert refused.status_code == 403


async def test_workers_and_residents_cannot_maintain(directory: Directory) -> None:
    d = directory
    etag = await _etag(d, "debt_a")
    for actor in ("generalist_a", "team_lead_a", "analyst", "resident", "privacy_officer"):
        response = await _patch(d, actor, "debt_a", {"name": "Nee"}, etag)
        assert response.status_code == 403, actor
    anonymous = await d.client.patch(f"{BASE}/services/{d.id('debt_a')}", json={"name": "Nee"})
    assert anonymous.status_code == 401
    assert (await d.client.post(f"{BASE}/services", json={})).status_code == 401


async def test_updates_need_the_current_version(directory: Directory) -> None:
    d = directory
    assert (await _patch(d, "admin", "debt_a", {"name": "Zonder"})).status_code == 428
    etag = await _etag(d, "debt_a")
    assert (await _patch(d, "admin", "debt_a", {"name": "Eerste"}, etag)).status_code == 200
    stale = await _patch(d, "admin", "debt_a", {"name": "Tweede"}, etag)
    assert stale.status_code == 412
    assert (await d.client.get(f"{BASE}/services/{d.id('debt_a')}")).json()["name"] == "Eerste"


@pytest.mark.parametrize("actor", READERS_OF_PUBLIC)
async def test_others_read_public_entries_without_internal_notes(directory: Directory, actor: str) -> None:
    d = directory
    headers = await d.world.headers(actor)
    listed = (await d.client.get(f"{BASE}/services", params={"limit": 100}, headers=headers)).json()
    names = {hit["service"]["name"] for hit in listed["items"]}
    assert "Dienst internal_a" not in names and "Dienst debt_a" in names
    assert all(
        hit["service"]["internal_notes"] is None
        for hit in listed["items"]
        if "_b" not in hit["service"]["name"]
    )
    hidden = await d.client.get(f"{BASE}/services/{d.id('internal_a')}", headers=headers)
    assert hidden.status_code == 404
    public = (await d.client.get(f"{BASE}/services/{d.id('debt_a')}", headers=headers)).json()
    assert public["internal_notes"] is None


@pytest.mark.parametrize("actor", ["generalist_a", "generalist_b", "admin", "partner_a"])
async def test_workers_admins_and_the_organisation_see_internal_entries(
    directory: Directory, actor: str
) -> None:
    d = directory
    headers = await d.world.headers(actor)
    found = await d.client.get(f"{BASE}/services/{d.id('internal_a')}", headers=headers)
    assert found.status_code == 200
    assert found.json()["internal_notes"] == "Alleen via het wijkteam."
    listed = (await d.client.get(f"{BASE}/services", params={"limit": 100}, headers=headers)).json()
    assert "Dienst internal_a" in {hit["service"]["name"] for hit in listed["items"]}


async def test_a_partner_does_not_see_another_partners_internal_notes(directory: Directory) -> None:
    d = directory
    headers = await d.world.headers("partner_b")
    own = (await d.client.get(f"{BASE}/services/{d.id('housing_b')}", headers=headers)).json()
    assert own["internal_notes"] == ""
    other = (await d.client.get(f"{BASE}/services/{d.id('debt_a')}", headers=headers)).json()
    assert other["internal_notes"] is None


@pytest.mark.parametrize(
    ("actor", "status"),
    [("anonymous", 401), ("generalist_a", 403), ("partner_a", 403), ("analyst", 403), ("resident", 403)],
)
async def test_only_the_administrator_reads_the_stale_worklist(
    directory: Directory, actor: str, status: int
) -> None:
    d = directory
    response = await d.client.get(f"{BASE}/stale", headers=await d.world.headers(actor))
    assert response.status_code == status
    admin = await d.client.get(f"{BASE}/stale", params={"limit": 100}, headers=await d.world.headers("admin"))
    assert d.id("debt_a") in {s["id"] for s in admin.json()["items"]}


async def test_organisations_and_locations_are_public_and_maintained_by_their_own(
    directory: Directory,
) -> None:
    d = directory
    org = await d.client.get(f"{BASE}/organizations/{d.organizations['a']}")
    assert org.status_code == 200
    location = await d.client.get(f"{BASE}/locations/{d.locations['office_a']}")
    assert location.json()["neighbourhood"] == d.world.buurten[0].code
    for path, etag in (
        (f"/organizations/{d.organizations['a']}", org.headers["ETag"]),
        (f"/locations/{d.locations['office_a']}", location.headers["ETag"]),
    ):
        body = {"name": "Nieuwe naam"}
        other = await d.client.patch(
            f"{BASE}{path}", json=body, headers=await if_match(d.world, "partner_b", etag)
        )
        assert other.status_code == 404
        own = await d.client.patch(
            f"{BASE}{path}", json=body, headers=await if_match(d.world, "partner_a", etag)
        )
        assert own.status_code == 200, own.text
