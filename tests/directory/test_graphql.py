"""The sociale kaart in GraphQL: anonymous callers never see a non-public service or internal notes;
workers see both; the same ranking and area levels as REST."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.directory.support import Directory, make_directory
from tests.factories import World

QUERY = """query ($filter: DirectoryFilterInput, $first: Int!, $after: String) {
  directoryServices(filter: $filter, first: $first, after: $after) {
    nodes { id name public internalNotes areaLevel organizationName areas { code level } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _query(d: Directory, actor: str, **variables: Any) -> dict[str, Any]:
    variables.setdefault("first", 50)
    variables.setdefault("filter", {"municipality": d.world.municipality.code})
    response = await d.client.post(
        "/graphql", json={"query": QUERY, "variables": variables}, headers=await d.world.headers(actor)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["directoryServices"]
    return result


@pytest.fixture
async def directory(world: World, client: httpx.AsyncClient) -> Directory:
    return await make_directory(world, client)


@pytest.mark.parametrize("actor", ["anonymous", "resident", "analyst", "partner_b"])
async def test_non_public_services_never_reach_other_callers(directory: Directory, actor: str) -> None:
    nodes = (await _query(directory, actor))["nodes"]
    names = {n["name"] for n in nodes}
    assert "Dienst internal_a" not in names and "Dienst debt_a" in names
    assert all(n["public"] for n in nodes)
    notes = {n["name"]: n["internalNotes"] for n in nodes}
    assert notes["Dienst debt_a"] is None


@pytest.mark.parametrize("actor", ["generalist_a", "admin", "partner_a"])
async def test_workers_admins_and_the_organisation_see_internal_entries(
    directory: Directory, actor: str
) -> None:
    nodes = {n["name"]: n for n in (await _query(directory, actor))["nodes"]}
    assert nodes["Dienst internal_a"]["internalNotes"] == "Alleen via het wijkteam."
    assert nodes["Dienst debt_a"]["internalNotes"] == "Bel eerst Marieke."


async def test_neighbourhood_levels_and_pages(directory: Directory) -> None:
    d = directory
    flt = {"municipality": d.world.municipality.code, "neighbourhood": d.world.buurten[0].code}
    first = await _query(d, "anonymous", filter=flt, first=1)
    assert [(n["name"], n["areaLevel"]) for n in first["nodes"]] == [("Dienst debt_a", "location")]
    assert first["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    both = await _query(d, "anonymous", filter={"municipality": d.world.municipality.code}, first=1)
    assert both["pageInfo"]["hasNextPage"]
    rest = await _query(
        d,
        "anonymous",
        filter={"municipality": d.world.municipality.code},
        first=50,
        after=both["pageInfo"]["endCursor"],
    )
    assert {n["name"] for n in both["nodes"] + rest["nodes"]} == {"Dienst debt_a", "Dienst housing_b"}
