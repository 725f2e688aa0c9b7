"""No lost updates (If-Match under real concurrency) and a constant number of SQL statements per
list request, whatever the list's length."""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import World
from tests.households.support import create_household, etag
from tests.support.statements import counting_statements


async def test_two_clients_editing_one_household_one_wins_other_gets_412(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world)
    url = f"/api/v1/households/{household['id']}"
    tag = await etag(client, world, household["id"])
    first = {**await world.headers("generalist_a"), "If-Match": tag}
    second = {**await world.headers("generalist_a2"), "If-Match": tag}
    responses = await asyncio.gather(
        client.patch(url, json={"house_number_addition": "A"}, headers=first),
        client.patch(url, json={"house_number_addition": "B"}, headers=second),
    )
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200).json()
    loser = next(r for r in responses if r.status_code == 412)
    assert loser.json()["type"] == "urn:wijkwerk:problem:stale_version"
    final = (await client.get(url, headers=await world.headers("generalist_a"))).json()
    assert final["house_number_addition"] == winner["house_number_addition"] and final["version"] == 2
    missing = await client.patch(
        url, json={"house_number_addition": "C"}, headers=await world.headers("generalist_a")
    )
    assert missing.status_code == 428


async def _list_statements(
    client: httpx.AsyncClient, world: World, headers: dict[str, str]
) -> tuple[int, int]:
    with counting_statements(world.app.state.db) as statements:
        response = await client.get("/api/v1/households", params={"limit": 100}, headers=headers)
    assert response.status_code == 200
    return len(response.json()["items"]), len(statements)


async def test_household_list_statement_count_is_constant(client: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("generalist_a")
    await create_household(client, world, themes=["debts"], members=[{"given_name": "A", "role": "parent"}])
    small = await _list_statements(client, world, headers)
    for i in range(12):
        await create_household(
            client, world, themes=["debts", "poverty"] if i % 2 else [], confidential=i % 3 == 0
        )
    large = await _list_statements(client, world, headers)
    assert (small[0], large[0]) == (1, 13)
    assert small[1] == large[1] == 1  # one statement: the list and its access-log row


async def test_member_and_contact_lists_are_constant_too(client: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("generalist_a")
    household = await create_household(client, world, members=[{"given_name": "A", "role": "parent"}])
    url = f"/api/v1/households/{household['id']}"
    counts = []
    for extra in (0, 8):
        for i in range(extra):
            await client.post(
                f"{url}/members", json={"given_name": f"K{i}", "role": "child"}, headers=headers
            )
            await client.post(
                f"{url}/contacts",
                json={"kind": "phone", "occurred_at": "2026-01-01T10:00:00Z"},
                headers=headers,
            )
        with counting_statements(world.app.state.db) as statements:
            assert (await client.get(f"{url}/members", headers=headers)).status_code == 200
            assert (await client.get(f"{url}/contacts", headers=headers)).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
