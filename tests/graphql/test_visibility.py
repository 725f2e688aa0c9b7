"""Private fields (contacts, member lists, grant reasons, reports) and ideas: members of that network only.

Outsiders: anonymous, a resident and a coordinator of another network, the BI client (analyst), a case
worker (generalist) and a partner. Members: network A's resident and coordinator.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.initiatives.factories import Networks

OUTSIDERS = ["anonymous", "resident_b", "coordinator_b", "analyst", "generalist_a", "partner_a"]
MEMBERS = ["resident", "network_coordinator"]

ONE = """
query($id: ID!) {
  initiative(id: $id) {
    title status grantedAmountCents participantsReached neighbourhood { code wijkCode }
    initiator { name email phone } report
    grant { amountCents reason }
    network { name members { displayName isResident contact { email phone } } }
  }
}"""

LIST = """
query($network: ID!) {
  initiatives(filter: {networkId: $network}, first: 50) {
    nodes { id status initiator { name } report grant { reason } }
  }
}"""

NETWORK = """
query($id: ID!) {
  network(id: $id) {
    name area { code }
    members { displayName }
    grants { amountCents reason }
    yearPlans { year budgetCents grantedCents spentCents remainingCents }
    initiatives(first: 50) { id status initiator { email } }
  }
}"""


def _ids(body: dict[str, Any], path: str) -> set[str]:
    return {node["id"] for node in body["data"][path]["nodes"]}


async def test_outsiders_see_public_fields_only(client: httpx.AsyncClient, networks: Networks) -> None:
    [done] = await networks.funded("a", 1)
    for actor in OUTSIDERS:
        body = await networks.gql(client, actor, ONE, id=str(done))
        _assert_public_only(body)
    buurt = networks.world.buurten[0]
    assert body["data"]["initiative"]["neighbourhood"] == {
        "code": buurt.code,
        "wijkCode": networks.world.wijken[0].code,
    }


def _assert_public_only(body: dict[str, Any]) -> None:
    assert "errors" not in body, body
    initiative = body["data"]["initiative"]
    assert initiative["title"] and initiative["status"] == "COMPLETED"
    assert initiative["grantedAmountCents"] == 40_000 and initiative["participantsReached"] == 35
    assert initiative["initiator"] is None
    assert initiative["report"] is None
    assert initiative["grant"] == {"amountCents": 40_000, "reason": None}
    assert initiative["network"]["name"].startswith("Wijknetwerk Noord")
    assert initiative["network"]["members"] is None
    text = str(body)
    for secret in ("initiator", "example.org", "Jansen", "De Vries", "Partner A", "+31"):
        assert secret not in text.replace("'initiator': None", ""), secret


async def test_members_see_their_networks_private_fields(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    [done] = await networks.funded("a", 1)
    for actor in MEMBERS:
        _assert_private_visible((await networks.gql(client, actor, ONE, id=str(done)))["data"]["initiative"])


def _assert_private_visible(initiative: dict[str, Any]) -> None:
    assert initiative["initiator"] == {
        "name": "Initiator 0",
        "email": "initiator0@example.org",
        "phone": None,
    }
    assert initiative["report"].startswith("Forty neighbours")
    assert initiative["grant"]["reason"].startswith("Fits the priority")
    members = {m["displayName"]: m for m in initiative["network"]["members"]}
    assert set(members) == {"Coordinator A", "Resident A", "Partner A"}
    assert members["Partner A"] == {
        "displayName": "Partner A",
        "isResident": False,
        "contact": {"email": "partner.a@example.org", "phone": None},
    }


async def test_ideas_are_drafts_outsiders_do_not_find(client: httpx.AsyncClient, networks: Networks) -> None:
    [idea] = await networks.initiatives("a", 1, status="idea")
    [requested] = await networks.initiatives("a", 1)
    for actor in OUTSIDERS:
        await _assert_idea_hidden(client, networks, actor, idea, requested)


async def _assert_idea_hidden(
    client: httpx.AsyncClient, networks: Networks, actor: str, idea: uuid.UUID, requested: uuid.UUID
) -> None:
    assert (await networks.gql(client, actor, ONE, id=str(idea)))["data"]["initiative"] is None
    listed = await networks.gql(client, actor, LIST, network=str(networks.a))
    assert _ids(listed, "initiatives") == {str(requested)}
    nested = (await networks.gql(client, actor, NETWORK, id=str(networks.a)))["data"]["network"]
    assert {i["id"] for i in nested["initiatives"]} == {str(requested)}
    assert all(i["initiator"] is None for i in nested["initiatives"])


async def test_a_member_finds_the_ideas_of_their_own_network_only(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    [idea_a] = await networks.initiatives("a", 1, status="idea")
    [idea_b] = await networks.initiatives("b", 1, status="idea")
    mine = await networks.gql(client, "resident", LIST, network=str(networks.a))
    assert _ids(mine, "initiatives") == {str(idea_a)}
    assert mine["data"]["initiatives"]["nodes"][0]["initiator"] == {"name": "Initiator 0"}
    theirs = await networks.gql(client, "resident", ONE, id=str(idea_b))
    assert theirs["data"]["initiative"] is None


async def test_membership_without_the_read_scope_shows_public_fields_only(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    """Scope AND membership: a member's token narrowed to initiatives:write sees no private field."""
    [done] = await networks.funded("a", 1)
    response = await client.post(
        "/graphql",
        json={"query": ONE, "variables": {"id": str(done)}},
        headers=await networks.world.headers("resident", scopes={"initiatives:write"}),
    )
    initiative = response.json()["data"]["initiative"]
    assert initiative["initiator"] is None and initiative["report"] is None
    assert initiative["network"]["members"] is None


async def test_outsiders_get_the_public_network_page(client: httpx.AsyncClient, networks: Networks) -> None:
    await networks.funded("a", 2)
    for actor in OUTSIDERS:
        _assert_public_network(networks, (await networks.gql(client, actor, NETWORK, id=str(networks.a))))


def _assert_public_network(networks: Networks, body: dict[str, Any]) -> None:
    network = body["data"]["network"]
    assert network["members"] is None
    assert [g["reason"] for g in network["grants"]] == [None, None]
    assert network["yearPlans"][0]["grantedCents"] == 80_000
    assert network["yearPlans"][0]["remainingCents"] == 1_000_000 - 80_000
    assert [a["code"] for a in network["area"]] == sorted(b.code for b in networks.world.buurten[:2])


async def test_a_bad_token_is_refused_not_treated_as_anonymous(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ themes { code } }"}, headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_and_malformed_ids_are_null(client: httpx.AsyncClient, networks: Networks) -> None:
    for value in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        body = await networks.gql(client, "anonymous", ONE, id=value)
        assert body == {"data": {"initiative": None}}
