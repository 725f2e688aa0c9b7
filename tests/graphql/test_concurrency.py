"""The invariants under real concurrent requests against the real database.

Requests run at the same time through the ASGI app (each with its own connection and transaction);
the row locks in the services (year plan, network, initiative) are what keeps the invariants.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.factories import World
from tests.graphql.documents import ADD, DECIDE, UPDATE, partner
from tests.initiatives.factories import Networks, make_networks


async def _all(
    client: httpx.AsyncClient, headers: dict[str, Any], calls: list[tuple[str, dict[str, Any]]]
) -> list[Any]:
    async def one(query: str, variables: dict[str, Any]) -> Any:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    return await asyncio.gather(*(one(q, v) for q, v in calls))


async def _spent(client: httpx.AsyncClient, networks: Networks) -> int:
    body = await networks.gql(
        client,
        "anonymous",
        "query($id: ID!) { network(id: $id) { yearPlans { grantedCents } } }",
        id=str(networks.a),
    )
    granted: int = body["data"]["network"]["yearPlans"][0]["grantedCents"]
    return granted


async def test_grants_racing_for_the_last_euros(client: httpx.AsyncClient, world: World) -> None:
    networks = await make_networks(world, budget_cents=100_000)
    requests = await networks.initiatives("a", 6)  # each requests 50,000: room for two
    headers = await world.headers("network_coordinator")
    decision = (await networks.meeting("a")).decision("GRANTED", 50_000)
    results = await _all(
        client, headers, [(DECIDE, {"id": str(i), "v": 1, "input": decision}) for i in requests]
    )
    outcomes = sorted(r["decideGrant"].get("status") or r["decideGrant"]["rule"] for r in results)
    assert outcomes == ["GRANTED"] * 2 + ["year_plan_budget_exceeded"] * 4
    assert await _spent(client, networks) == 100_000


async def test_two_grants_for_the_same_last_euros(client: httpx.AsyncClient, world: World) -> None:
    networks = await make_networks(world, budget_cents=60_000)
    first, second = await networks.initiatives("a", 2)
    headers = await world.headers("network_coordinator")
    decision = (await networks.meeting("a")).decision("GRANTED", 50_000)
    results = await _all(
        client, headers, [(DECIDE, {"id": str(i), "v": 1, "input": decision}) for i in (first, second)]
    )
    typenames = sorted(r["decideGrant"]["__typename"] for r in results)
    assert typenames == ["ConflictProblem", "Initiative"]
    assert await _spent(client, networks) == 50_000


async def test_members_added_at_once_keep_the_resident_majority(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    # Two residents and one partner: any ONE more partner keeps 50%, a second would not.
    headers = await networks.world.headers("network_coordinator")
    calls = [(ADD, {"network": str(networks.a), "input": partner(f"Partner {n}")}) for n in range(4)]
    results = await _all(client, headers, calls)
    typenames = sorted(r["addNetworkMember"]["__typename"] for r in results)
    assert typenames == ["ConflictProblem"] * 3 + ["NetworkMember"]
    assert {r["addNetworkMember"].get("rule") for r in results} == {None, "network_resident_majority"}
    body = await networks.gql(
        client,
        "network_coordinator",
        "query($id: ID!) { network(id: $id) { members { isResident } } }",
        id=str(networks.a),
    )
    flags = [m["isResident"] for m in body["data"]["network"]["members"]]
    assert flags.count(True) * 2 >= len(flags) == 4


async def test_concurrent_edits_of_one_version_one_wins(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    [idea] = await networks.initiatives("a", 1, status="idea")
    headers = await networks.world.headers("resident")
    calls = [(UPDATE, {"id": str(idea), "v": 1, "input": {"title": f"Title {n}"}}) for n in range(3)]
    results = await _all(client, headers, calls)
    typenames = sorted(r["updateInitiative"]["__typename"] for r in results)
    assert typenames == ["Initiative", "StaleVersionProblem", "StaleVersionProblem"]
