"""Registering by address alone: the buurt follows from the postcode table, house-number ranges
included; an explicit buurt code still wins; an address outside the municipality is a clear 422."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from app.bootstrap import wiring
from app.domain.areas.service import import_postcodes
from app.domain.unit_of_work.work import unit_of_work
from tests.areas.support import cbs_file, not_held, postcode_of
from tests.factories import World


async def _load_table(world: World, tmp_path: Path) -> None:
    path = cbs_file(world, tmp_path / "table.csv", other=await not_held(world))
    async with unit_of_work(world.app.state.db, wiring()) as uow:
        await import_postcodes(uow, path.read_text().splitlines(keepends=True))


async def _register(client: httpx.AsyncClient, world: World, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/households", json=body, headers=await world.headers("generalist_a"))


async def test_the_buurt_follows_from_the_address_and_its_house_number(
    world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _load_table(world, tmp_path)
    cases = [
        (postcode_of(world, "AA"), 12, world.buurten[0]),
        (postcode_of(world, "AA"), 35, world.buurten[0]),  # beyond the last number: the postcode's one buurt
        (postcode_of(world, "BB"), 7, world.buurten[0]),
        (postcode_of(world, "BB"), 30, world.buurten[1]),  # the same postcode, the other side of the border
    ]
    for postcode, number, buurt in cases:
        response = await _register(client, world, {"postcode": postcode, "house_number": number})
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["buurt_code"], body["team_id"]) == (buurt.code, str(world.teams["a"].id))
        assert body["status"] == "registered"


async def test_an_explicit_buurt_code_wins_over_the_table(
    world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _load_table(world, tmp_path)
    body = {"postcode": postcode_of(world, "BB"), "house_number": 30, "buurt_code": world.buurten[0].code}
    response = await _register(client, world, body)
    assert response.status_code == 201, response.text
    assert response.json()["buurt_code"] == world.buurten[0].code


async def test_an_address_outside_the_municipality_or_between_two_buurten_is_a_clear_422(
    world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _load_table(world, tmp_path)
    outside = await _register(client, world, {"postcode": postcode_of(world, "ZZ"), "house_number": 1})
    assert outside.status_code == 422
    problem = outside.json()
    assert problem["errors"] == [
        {
            "loc": ["body", "postcode"],
            "message": problem["errors"][0]["message"],
            "rule": "address_outside_municipality",
        }
    ]
    assert postcode_of(world, "ZZ") not in outside.text  # the address is not echoed
    between = await _register(client, world, {"postcode": postcode_of(world, "BB"), "house_number": 21})
    assert between.status_code == 422
    assert between.json()["errors"][0]["rule"] == "address_ambiguous"
    assert between.json()["errors"][0]["loc"] == ["body", "postcode"]


async def test_a_move_to_another_address_takes_the_buurt_of_the_new_one(
    world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _load_table(world, tmp_path)
    made = await _register(client, world, {"postcode": postcode_of(world, "BB"), "house_number": 3})
    household = made.json()
    moved = await client.patch(
        f"/api/v1/households/{household['id']}",
        json={"house_number": 24, "expected_version": household["version"]},
        headers=await world.headers("generalist_a"),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["buurt_code"] == world.buurten[1].code


async def test_a_partner_refers_by_address_and_the_range_routes_it(
    world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _load_table(world, tmp_path)
    body: dict[str, Any] = {
        "person": {"given_name": "Sanne", "postcode": postcode_of(world, "BB"), "house_number": 30},
        "reason_domain": "finances",
        "legal_basis": "consent",
    }
    headers = {**await world.headers("partner_a"), "Idempotency-Key": str(uuid.uuid4())}
    response = await client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["buurt_code"] == world.buurten[1].code
    between = {**body, "person": {**body["person"], "house_number": 21}}
    headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    refused = await client.post("/api/v1/referrals", json=between, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "postcode_unroutable"
