"""recordMeeting takes an idempotency key (the mechanism of REST's Idempotency-Key): a phone or a
dashboard retrying the call gets the first meeting back instead of a second one."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from app.domain.idempotency.models import IdempotencyKey
from app.domain.initiatives.models import NetworkMeeting
from tests.factories import World
from tests.initiatives.factories import Networks
from tests.self_service.support import account, make_home

RECORD = """mutation($network: ID!, $input: MeetingInput!, $key: String) {
  recordMeeting(networkId: $network, input: $input, idempotencyKey: $key) {
    __typename
    ... on Meeting { id heldOn presentCount }
    ... on Problem { rule }
    ... on InvalidInputProblem { fields { path rule } }
  } }"""


async def _meetings(networks: Networks, network: uuid.UUID) -> int:
    async with networks.world.app.state.db.transaction() as session:
        query = (
            select(func.count()).select_from(NetworkMeeting).where(col(NetworkMeeting.network_id) == network)
        )
        return int(await session.scalar(query) or 0)


async def _members(
    client: httpx.AsyncClient, networks: Networks, actor: str, network: uuid.UUID
) -> list[str]:
    query = "query($id: ID!) { network(id: $id) { members { id } } }"
    body = await networks.gql(client, actor, query, id=str(network))
    return [m["id"] for m in body["data"]["network"]["members"]]


def _input(members: list[str], days_ago: int = 1) -> dict[str, Any]:
    return {"heldOn": str(date.today() - timedelta(days=days_ago)), "presentMemberIds": members}


async def _record(
    client: httpx.AsyncClient, networks: Networks, actor: str, network: uuid.UUID, input: Any, key: str | None
) -> Any:
    body = await networks.gql(client, actor, RECORD, network=str(network), input=input, key=key)
    return body["data"]["recordMeeting"] if body["data"] else body


async def test_a_retried_recording_answers_the_first_meeting(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    members = await _members(client, networks, "network_coordinator", networks.a)
    first = await _record(client, networks, "network_coordinator", networks.a, _input(members), "meeting-1")
    again = await _record(client, networks, "network_coordinator", networks.a, _input(members), "meeting-1")
    assert first["__typename"] == again["__typename"] == "Meeting"
    assert again == first
    assert await _meetings(networks, networks.a) == 1
    # Another key is another meeting; no key at all is as before.
    other = await _record(client, networks, "network_coordinator", networks.a, _input(members), "meeting-2")
    assert other["id"] != first["id"]
    await _record(client, networks, "network_coordinator", networks.a, _input(members), None)
    assert await _meetings(networks, networks.a) == 3


async def test_the_same_key_with_another_meeting_is_refused(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    members = await _members(client, networks, "network_coordinator", networks.a)
    await _record(client, networks, "network_coordinator", networks.a, _input(members), "k")
    refused = await _record(client, networks, "network_coordinator", networks.a, _input(members, 2), "k")
    assert refused["__typename"] == "InvalidInputProblem"
    assert refused["fields"] == [{"path": ["idempotencyKey"], "rule": "idempotency_key_reused"}]
    assert await _meetings(networks, networks.a) == 1


async def test_a_refused_recording_leaves_its_key_free(client: httpx.AsyncClient, networks: Networks) -> None:
    members = await _members(client, networks, "network_coordinator", networks.a)
    future = _input(members, days_ago=-3)
    refused = await _record(client, networks, "network_coordinator", networks.a, future, "k")
    assert refused["fields"][0]["rule"] == "meeting_in_future"
    made = await _record(client, networks, "network_coordinator", networks.a, _input(members), "k")
    assert made["__typename"] == "Meeting"
    malformed = await _record(client, networks, "network_coordinator", networks.a, _input(members), "a key")
    assert malformed["fields"] == [{"path": ["idempotencyKey"], "rule": "idempotency_key_format"}]
    assert await _meetings(networks, networks.a) == 1


async def test_keys_are_per_caller_and_outsiders_record_nothing(
    client: httpx.AsyncClient, networks: Networks, world: World
) -> None:
    members = await _members(client, networks, "network_coordinator", networks.a)
    first = await _record(client, networks, "network_coordinator", networks.a, _input(members), "shared")
    # Another network's coordinator, with the same key: network A answers as missing...
    foreign = await _record(client, networks, "coordinator_b", networks.a, _input(members), "shared")
    assert foreign["__typename"] == "NotFoundProblem"
    # ...and the key is theirs alone: in their own network it records their own meeting.
    own = await _members(client, networks, "coordinator_b", networks.b)
    theirs = await _record(client, networks, "coordinator_b", networks.b, _input(own), "shared")
    assert theirs["__typename"] == "Meeting" and theirs["id"] != first["id"]
    # Roles without networks:manage (a member, BI, a worker, a partner) and anonymous callers are
    # refused by the field, before any key is looked at.
    for actor in ("resident", "analyst", "generalist_a", "partner_a", "anonymous"):
        body = await networks.gql(
            client, actor, RECORD, network=str(networks.a), input=_input(members), key="shared"
        )
        refused_as = "UNAUTHENTICATED" if actor == "anonymous" else "FORBIDDEN"
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == refused_as, actor
    home = await make_home(world, client, with_plan=False)
    member = await account(world, home)
    response = await client.post(
        "/graphql",
        json={
            "query": RECORD,
            "variables": {"network": str(networks.a), "input": _input(members), "key": "shared"},
        },
        headers=await member.headers(),
    )
    refused = response.json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    assert await _meetings(networks, networks.a) == 1
    async with networks.world.app.state.db.transaction() as session:
        query = select(func.count()).select_from(IdempotencyKey).where(col(IdempotencyKey.key) == "shared")
        keys = await session.scalar(query)
    assert keys == 2  # one per coordinator
