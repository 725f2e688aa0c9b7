"""A year plan's money over REST for administrators and GraphQL for everyone: budget, granted, spent,
returned, available and the ledger they come from; every other caller is refused."""

from __future__ import annotations

import httpx

from tests.factories import World
from tests.initiatives.factories import Networks
from tests.organisation.support import NOT_ADMINS
from tests.self_service.support import account, make_home

LEDGER = """query($id: ID!) { network(id: $id) { yearPlans {
  budgetCents grantedCents spentCents returnedCents availableCents
  ledger { kind amountCents balanceAfterCents initiativeId } } } }"""


async def test_the_year_plans_money_for_administrators_and_the_public(
    client: httpx.AsyncClient, networks: Networks, world: World
) -> None:
    [initiative] = await networks.initiatives("a", 1)
    meeting = await networks.meeting("a")
    await networks.gql(
        client, "network_coordinator", "mutation($id: ID!, $v: Int!, $input: GrantDecisionInput!) {"
        " decideGrant(id: $id, expectedVersion: $v, input: $input) { __typename } }",
        id=str(initiative), v=1, input=meeting.decision("GRANTED", 40_000),
    )  # fmt: skip
    path = f"/api/v1/resident-networks/{networks.a}/year-plans"
    read = await client.get(path, headers=await world.headers("admin"))
    assert read.status_code == 200, read.text
    [plan] = read.json()
    assert (plan["budget_cents"], plan["granted_cents"], plan["available_cents"]) == (
        1_000_000,
        40_000,
        960_000,
    )
    assert [(e["kind"], e["amount_cents"], e["balance_after_cents"]) for e in plan["ledger"]] == [
        ("budget", 1_000_000, 1_000_000),
        ("grant", -40_000, 960_000),
    ]
    # The same figures on the public dashboard, for anyone.
    for actor in ("anonymous", "resident_b", "analyst"):
        body = await networks.gql(client, actor, LEDGER, id=str(networks.a))
        [shown] = body["data"]["network"]["yearPlans"]
        assert shown["availableCents"] == 960_000 and len(shown["ledger"]) == 2, actor
        assert shown["ledger"][1]["initiativeId"] == str(initiative)
    # Every other role is refused the administrators' route; anonymous callers are asked to sign in.
    for actor in [
        *NOT_ADMINS,
        "network_coordinator",
        "resident",
        "coordinator_b",
        "generalist_b",
        "partner_b",
    ]:
        refused = await client.get(path, headers=await world.headers(actor))
        assert refused.status_code == 403, (actor, refused.text)
        assert "budget_cents" not in refused.text
    member = await account(world, await make_home(world, client, with_plan=False))
    assert (await client.get(path, headers=await member.headers())).status_code == 403
    assert (await client.get(path)).status_code == 401
    missing = await client.get(f"/api/v1/resident-networks/{networks.world.municipality.id}/year-plans",
                               headers=await world.headers("admin"))  # fmt: skip
    assert missing.status_code == 404
