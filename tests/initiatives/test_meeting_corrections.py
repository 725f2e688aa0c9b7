"""A coordinator corrects a meeting (its date, who was present) with the version they read, until a
grant is decided in it: then the decision rests on the record as it was (409 meeting_decided)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.factories import World
from tests.graphql.documents import DECIDE
from tests.initiatives.factories import Networks
from tests.self_service.support import account, make_home

CORRECT = """mutation($id: ID!, $v: Int!, $input: CorrectMeetingInput!) {
  correctMeeting(id: $id, expectedVersion: $v, input: $input) {
    __typename
    ... on Meeting { id heldOn presentCount residentCount version present { displayName } }
    ... on Problem { rule }
    ... on InvalidInputProblem { fields { path rule } }
  } }"""
MEETINGS = "query($id: ID!) { network(id: $id) { meetings { id heldOn presentCount version } } }"


async def _correct(
    client: httpx.AsyncClient, networks: Networks, actor: str, meeting: Any, version: int, **input: Any
) -> Any:
    body = await networks.gql(client, actor, CORRECT, id=str(meeting), v=version, input=input)
    return body["data"]["correctMeeting"] if body["data"] else body


async def test_a_coordinator_corrects_date_and_attendance_with_the_version_read(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    meeting = await networks.meeting("a")
    earlier = str(date.today() - timedelta(days=10))
    two = [str(meeting.present["Coordinator A"]), str(meeting.present["Partner A"])]
    corrected = await _correct(
        client, networks, "network_coordinator", meeting.id, 1, heldOn=earlier, presentMemberIds=two
    )
    assert corrected["__typename"] == "Meeting", corrected
    assert (corrected["heldOn"], corrected["presentCount"], corrected["residentCount"]) == (earlier, 2, 1)
    assert sorted(p["displayName"] for p in corrected["present"]) == ["Coordinator A", "Partner A"]
    assert corrected["version"] == 2
    # The public dashboard shows the corrected meeting.
    seen = await networks.gql(client, "anonymous", MEETINGS, id=str(networks.a))
    assert seen["data"]["network"]["meetings"] == [
        {"id": str(meeting.id), "heldOn": earlier, "presentCount": 2, "version": 2}
    ]
    # The version read before is stale now; a future date and a stranger are refused by rule.
    stale = await _correct(client, networks, "network_coordinator", meeting.id, 1, heldOn=earlier)
    assert stale["__typename"] == "StaleVersionProblem"
    future = str(date.today() + timedelta(days=2))
    refused = await _correct(client, networks, "network_coordinator", meeting.id, 2, heldOn=future)
    assert refused["fields"] == [{"path": ["input", "held_on"], "rule": "meeting_in_future"}]
    stranger = await _correct(
        client, networks, "network_coordinator", meeting.id, 2, presentMemberIds=[str(networks.b)]
    )
    assert stranger["fields"][0]["rule"] == "unknown_member"
    # A correction that changes nothing is refused: it would raise the version for nothing.
    empty = await _correct(client, networks, "network_coordinator", meeting.id, 2)
    assert empty["__typename"] == "InvalidInputProblem", empty
    after = await networks.gql(client, "network_coordinator", MEETINGS, id=str(networks.a))
    assert after["data"]["network"]["meetings"][0]["presentCount"] == 2  # the refusals changed nothing
    assert after["data"]["network"]["meetings"][0]["version"] == 2


async def test_a_meeting_that_decided_a_grant_is_not_corrected(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    [initiative] = await networks.initiatives("a", 1)
    meeting = await networks.meeting("a")
    decided = await networks.gql(
        client,
        "network_coordinator",
        DECIDE,
        id=str(initiative),
        v=1,
        input=meeting.decision("GRANTED", 10_000),
    )
    assert decided["data"]["decideGrant"]["status"] == "GRANTED", decided
    refused = await _correct(
        client,
        networks,
        "network_coordinator",
        meeting.id,
        1,
        presentMemberIds=[str(meeting.present["Partner A"])],
    )
    assert refused == {"__typename": "ConflictProblem", "rule": "meeting_decided"}


async def test_outsiders_correct_nothing(client: httpx.AsyncClient, networks: Networks, world: World) -> None:
    meeting = await networks.meeting("a")
    earlier = str(date.today() - timedelta(days=5))
    # Another network's coordinator: the meeting answers as missing.
    foreign = await _correct(client, networks, "coordinator_b", meeting.id, 1, heldOn=earlier)
    assert foreign["__typename"] == "NotFoundProblem"
    # A member of the network without networks:manage, BI, a worker, a partner, anonymous callers.
    for actor in ("resident", "analyst", "generalist_a", "partner_a", "anonymous"):
        body = await _correct(client, networks, actor, meeting.id, 1, heldOn=earlier)
        refused_as = "UNAUTHENTICATED" if actor == "anonymous" else "FORBIDDEN"
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == refused_as, actor
    home = await make_home(world, client, with_plan=False)
    member = await account(world, home)
    response = await client.post(
        "/graphql",
        json={"query": CORRECT, "variables": {"id": str(meeting.id), "v": 1, "input": {"heldOn": earlier}}},
        headers=await member.headers(),
    )
    refused = response.json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    seen = await networks.gql(client, "network_coordinator", MEETINGS, id=str(networks.a))
    assert seen["data"]["network"]["meetings"][0]["version"] == 1
