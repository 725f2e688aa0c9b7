"""Coordinators manage members (the >= 50% resident rule) and year plans; nobody else does."""

from __future__ import annotations

from typing import Any

import httpx

from tests.graphql.documents import ADD, MEMBER, partner
from tests.initiatives.factories import YEAR, Networks

UPDATE = (
    """mutation($id: ID!, $v: Int!, $input: UpdateMemberInput!) {
  updateNetworkMember(id: $id, expectedVersion: $v, input: $input) { """
    + MEMBER
    + """ } }"""
)
REMOVE = """mutation($id: ID!, $v: Int!) { removeNetworkMember(id: $id, expectedVersion: $v) {
  __typename ... on MemberRemoved { id } ... on Problem { rule } } }"""
PLAN = """
  __typename
  ... on YearPlan { id year budgetCents grantedCents spentCents version priorities { code } }
  ... on Problem { rule }
  ... on InvalidInputProblem { fields { path rule } }
"""
CREATE_PLAN = (
    """mutation($network: ID!, $input: YearPlanInput!) {
  createYearPlan(networkId: $network, input: $input) { """
    + PLAN
    + """ } }"""
)
UPDATE_PLAN = (
    """mutation($id: ID!, $v: Int!, $input: UpdateYearPlanInput!) {
  updateYearPlan(id: $id, expectedVersion: $v, input: $input) { """
    + PLAN
    + """ } }"""
)
MEMBERS = "query($id: ID!) { network(id: $id) { members { id displayName isResident role version } } }"


async def _members(client: httpx.AsyncClient, networks: Networks) -> dict[str, dict[str, Any]]:
    body = await networks.gql(client, "network_coordinator", MEMBERS, id=str(networks.a))
    return {m["displayName"]: m for m in body["data"]["network"]["members"]}


async def test_the_resident_majority_holds(client: httpx.AsyncClient, networks: Networks) -> None:
    # A: two residents, one partner. One more partner keeps 50%; a third is refused.
    ok = await networks.gql(
        client, "network_coordinator", ADD, network=str(networks.a), input=partner("Library")
    )
    assert ok["data"]["addNetworkMember"]["__typename"] == "NetworkMember"
    refused = await networks.gql(
        client, "network_coordinator", ADD, network=str(networks.a), input=partner("School")
    )
    assert refused["data"]["addNetworkMember"]["rule"] == "network_resident_majority"
    members = await _members(client, networks)
    assert "School" not in members and len(members) == 4
    # Turning a resident into a non-resident, or removing one, would break it too.
    resident = members["Resident A"]
    flipped = await networks.gql(
        client,
        "network_coordinator",
        UPDATE,
        id=resident["id"],
        v=resident["version"],
        input={"isResident": False},
    )
    assert flipped["data"]["updateNetworkMember"]["rule"] == "network_resident_majority"
    removed = await networks.gql(
        client, "network_coordinator", REMOVE, id=resident["id"], v=resident["version"]
    )
    assert removed["data"]["removeNetworkMember"]["rule"] == "network_resident_majority"
    # Removing a partner is fine; the member list says so.
    library = members["Library"]
    gone = await networks.gql(client, "network_coordinator", REMOVE, id=library["id"], v=library["version"])
    assert gone["data"]["removeNetworkMember"] == {"__typename": "MemberRemoved", "id": library["id"]}
    assert set(await _members(client, networks)) == {"Coordinator A", "Resident A", "Partner A"}


async def test_member_updates_and_links(client: httpx.AsyncClient, networks: Networks) -> None:
    members = await _members(client, networks)
    partner_a = members["Partner A"]
    renamed = await networks.gql(
        client,
        "network_coordinator",
        UPDATE,
        id=partner_a["id"],
        v=1,
        input={"displayName": "Partner A.", "email": None},
    )
    member = renamed["data"]["updateNetworkMember"]
    assert (member["displayName"], member["version"], member["contact"]) == ("Partner A.", 2, {"email": None})
    stale = await networks.gql(
        client, "network_coordinator", UPDATE, id=partner_a["id"], v=1, input={"displayName": "X"}
    )
    assert stale["data"]["updateNetworkMember"]["__typename"] == "StaleVersionProblem"
    # Only resident accounts can be linked; a case worker's cannot.
    worker = networks.world.people["generalist_a"].user.id
    linked = await networks.gql(
        client, "network_coordinator", ADD, network=str(networks.a),
        input={"displayName": "Worker", "isResident": True, "userId": str(worker)},
    )  # fmt: skip
    assert linked["data"]["addNetworkMember"]["fields"] == [
        {"path": ["input", "user_id"], "rule": "user_role_not_allowed"}
    ]
    # The last coordinator cannot step down.
    coordinator = members["Coordinator A"]
    demoted = await networks.gql(
        client, "network_coordinator", UPDATE, id=coordinator["id"], v=1, input={"role": "MEMBER"}
    )
    assert demoted["data"]["updateNetworkMember"]["rule"] == "network_needs_coordinator"


async def test_year_plans(client: httpx.AsyncClient, networks: Networks) -> None:
    plan = {
        "year": YEAR + 1,
        "budgetCents": 500_000,
        "priorities": ["loneliness", "youth"],
        "summary": "Meet.",
    }
    created = await networks.gql(
        client, "network_coordinator", CREATE_PLAN, network=str(networks.a), input=plan
    )
    result = created["data"]["createYearPlan"]
    assert result["year"] == YEAR + 1 and [p["code"] for p in result["priorities"]] == ["loneliness", "youth"]
    again = await networks.gql(
        client, "network_coordinator", CREATE_PLAN, network=str(networks.a), input=plan
    )
    assert again["data"]["createYearPlan"]["rule"] == "year_plan_exists"
    bad_theme = {**plan, "year": YEAR + 2, "priorities": ["nope"]}
    bad = await networks.gql(
        client, "network_coordinator", CREATE_PLAN, network=str(networks.a), input=bad_theme
    )
    assert bad["data"]["createYearPlan"]["fields"] == [
        {"path": ["input", "priorities"], "rule": "unknown_theme"}
    ]
    # The budget cannot drop below what is granted.
    await networks.funded("a", 1, amount=300_000)
    this_year = str(networks.plans["a"])
    cut = await networks.gql(
        client, "network_coordinator", UPDATE_PLAN, id=this_year, v=1, input={"budgetCents": 299_999}
    )
    assert cut["data"]["updateYearPlan"]["rule"] == "year_plan_budget_below_granted"
    ok = await networks.gql(
        client, "network_coordinator", UPDATE_PLAN, id=this_year, v=1, input={"budgetCents": 300_000}
    )
    assert (
        ok["data"]["updateYearPlan"]["budgetCents"] == 300_000
        and ok["data"]["updateYearPlan"]["grantedCents"] == 300_000
        and ok["data"]["updateYearPlan"]["spentCents"] == 0  # nothing reported spent yet
    )


async def test_only_the_networks_coordinator_manages_it(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    members = await _members(client, networks)
    partner_a = members["Partner A"]
    plan = {"year": YEAR + 1, "budgetCents": 1}
    # Another network's coordinator: the network and its members answer as missing.
    other = await networks.gql(client, "coordinator_b", ADD, network=str(networks.a), input=partner("Mine"))
    assert other["data"]["addNetworkMember"]["__typename"] == "NotFoundProblem"
    other = await networks.gql(client, "coordinator_b", REMOVE, id=partner_a["id"], v=1)
    assert other["data"]["removeNetworkMember"]["__typename"] == "NotFoundProblem"
    other = await networks.gql(client, "coordinator_b", CREATE_PLAN, network=str(networks.a), input=plan)
    assert other["data"]["createYearPlan"]["__typename"] == "NotFoundProblem"
    other = await networks.gql(
        client, "coordinator_b", UPDATE_PLAN, id=str(networks.plans["a"]), v=1, input={"budgetCents": 1}
    )
    assert other["data"]["updateYearPlan"]["__typename"] == "NotFoundProblem"
    # Without networks:manage (a member resident, BI, a case worker): refused by scope; anonymous
    # callers are told that a token is needed.
    for actor in ("resident", "analyst", "generalist_a", "resident_b"):
        body = await networks.gql(client, actor, REMOVE, id=partner_a["id"], v=1)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN", actor
    body = await networks.gql(client, "anonymous", REMOVE, id=partner_a["id"], v=1)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert set(await _members(client, networks)) == {"Coordinator A", "Resident A", "Partner A"}
