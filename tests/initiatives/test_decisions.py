"""Grants are decided in a meeting: quorum, resident share of those present, votes by name or tally,
members linked to the initiative recused; the outcome public, who voted what for members only."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from app.domain.initiatives.models import Grant, NetworkMeeting
from tests.factories import World
from tests.graphql.documents import DECIDE, PROPOSE, REQUEST, proposal
from tests.initiatives.factories import YEAR, Networks
from tests.self_service.support import account, make_home

RECORD = """mutation($network: ID!, $input: MeetingInput!) {
  recordMeeting(networkId: $network, input: $input) {
    __typename
    ... on Meeting { id heldOn presentCount residentCount residentSharePercent canDecide
                     present { displayName isResident } }
    ... on Problem { rule message }
    ... on InvalidInputProblem { fields { path rule } }
  } }"""
DASHBOARD = """query($id: ID!) { network(id: $id) {
  meetings { id heldOn presentCount residentCount canDecide present { displayName } }
  grants { decision amountCents votesFor votesAgainst votesAbstain publicSummary meetingId
           ballots { memberName ballot conflict } }
} }"""
OUTSIDERS = ["anonymous", "resident_b", "coordinator_b", "analyst", "generalist_a", "partner_a"]


async def _decide(client: httpx.AsyncClient, networks: Networks, initiative: Any, decision: Any) -> Any:
    body = await networks.gql(client, "network_coordinator", DECIDE, id=str(initiative), v=1, input=decision)
    return body["data"]["decideGrant"]


async def _count(networks: Networks, model: Any, *where: Any) -> int:
    async with networks.world.app.state.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_meeting_without_a_resident_majority_cannot_decide(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    [initiative] = await networks.initiatives("a", 1)
    # Two present: the coordinator (a resident) and the partner: 50% is enough by default...
    pair = await networks.meeting("a", ("Coordinator A", "Partner A"))
    refused = await _decide(client, networks, initiative, pair.decision("GRANTED", 10_000))
    assert refused["rule"] == "meeting_quorum"  # ...but two are fewer than the quorum of three.
    # Lower the quorum to two, raise the share to 60% (upward only): now the pair cannot decide.
    network = await client.get(
        f"/api/v1/resident-networks/{networks.a}", headers=await networks.world.headers("admin")
    )
    changed = await client.patch(
        f"/api/v1/resident-networks/{networks.a}",
        json={"quorum_members": 2, "resident_share_percent": 60},
        headers={**await networks.world.headers("admin"), "If-Match": network.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["quorum_members"], changed.json()["resident_share_percent"]) == (2, 60)
    refused = await _decide(client, networks, initiative, pair.decision("GRANTED", 10_000))
    assert (refused["__typename"], refused["rule"]) == ("ConflictProblem", "meeting_resident_share")
    below_half = await client.patch(
        f"/api/v1/resident-networks/{networks.a}",
        json={"resident_share_percent": 49},
        headers={**await networks.world.headers("admin"), "If-Match": changed.headers["etag"]},
    )
    assert below_half.status_code == 422
    # Nothing was written by the refused decisions.
    assert await _count(networks, Grant, col(Grant.initiative_id) == initiative) == 0
    everyone = await networks.meeting("a")  # 2 residents of 3 present: 66%
    granted = await _decide(client, networks, initiative, everyone.decision("GRANTED", 10_000))
    assert granted["status"] == "GRANTED", granted


async def test_a_conflicted_members_vote_is_refused_and_the_conflict_recorded(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    # The world's resident (Resident A) proposes it: linked to the initiative.
    idea = (await networks.gql(client, "resident", PROPOSE, input=proposal(networks)))["data"][
        "proposeInitiative"
    ]
    await networks.gql(client, "resident", REQUEST, id=idea["id"], v=1, amount=30_000, year=YEAR)
    meeting = await networks.meeting("a")
    with_their_vote = meeting.decision("GRANTED", 30_000)
    refused = (
        await networks.gql(client, "network_coordinator", DECIDE, id=idea["id"], v=2, input=with_their_vote)
    )["data"]["decideGrant"]
    assert (refused["__typename"], refused["rule"]) == ("ConflictProblem", "conflict_of_interest")
    assert await _count(networks, Grant, col(Grant.initiative_id) == uuid.UUID(idea["id"])) == 0
    # A vote missing, a stranger's vote, and a decision the votes do not carry: each refused.
    missing = meeting.decision("GRANTED", 30_000, without=("Resident A", "Partner A"))
    body = await networks.gql(client, "network_coordinator", DECIDE, id=idea["id"], v=2, input=missing)
    assert body["data"]["decideGrant"]["fields"][0]["rule"] == "vote_missing"
    against = meeting.decision("GRANTED", 30_000, without=("Resident A",))
    against["votes"] = [{**v, "vote": "AGAINST"} for v in against["votes"]]
    body = await networks.gql(client, "network_coordinator", DECIDE, id=idea["id"], v=2, input=against)
    assert body["data"]["decideGrant"]["rule"] == "decision_contradicts_votes"
    # Without their vote, and the partner declaring a link: the coordinator's vote carries it.
    declared = meeting.decision(
        "GRANTED",
        30_000,
        without=("Resident A", "Partner A"),
        declaredConflicts=[str(meeting.present["Partner A"])],
        publicSummary="Granted: a monthly financial café.",
    )
    granted = (await networks.gql(client, "network_coordinator", DECIDE, id=idea["id"], v=2, input=declared))[
        "data"
    ]["decideGrant"]
    assert granted["status"] == "GRANTED", granted
    seen = (await networks.gql(client, "resident", DASHBOARD, id=str(networks.a)))["data"]["network"]
    [grant] = seen["grants"]
    assert (grant["votesFor"], grant["votesAgainst"], grant["votesAbstain"]) == (1, 0, 0)
    assert sorted((b["memberName"], b["ballot"], b["conflict"]) for b in grant["ballots"]) == [
        ("Coordinator A", "FOR", None),
        ("Partner A", "RECUSED", "DECLARED"),
        ("Resident A", "RECUSED", "INITIATOR"),
    ]


async def test_anonymous_voting_records_only_the_tally(client: httpx.AsyncClient, networks: Networks) -> None:
    network = await client.get(
        f"/api/v1/resident-networks/{networks.a}", headers=await networks.world.headers("admin")
    )
    await client.patch(
        f"/api/v1/resident-networks/{networks.a}",
        json={"anonymous_voting": True},
        headers={**await networks.world.headers("admin"), "If-Match": network.headers["etag"]},
    )
    [initiative] = await networks.initiatives("a", 1)
    meeting = await networks.meeting("a")
    named = await _decide(client, networks, initiative, meeting.decision("GRANTED", 20_000))
    assert named["fields"][0]["rule"] == "tally_required"
    tally = {k: v for k, v in meeting.decision("GRANTED", 20_000).items() if k != "votes"}
    one = {"votesFor": 1, "votesAgainst": 0, "votesAbstain": 0}
    short = await _decide(client, networks, initiative, {**tally, "tally": one})
    assert short["fields"][0]["rule"] == "tally_does_not_add_up"
    counted = {"votesFor": 2, "votesAgainst": 0, "votesAbstain": 1}
    granted = await _decide(client, networks, initiative, {**tally, "tally": counted})
    assert granted["status"] == "GRANTED", granted
    seen = (await networks.gql(client, "network_coordinator", DASHBOARD, id=str(networks.a)))["data"]
    assert seen["network"]["grants"][0]["ballots"] == []  # nobody's vote is on record


async def test_meetings_are_recorded_by_the_coordinator_with_members_present(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    query = "query($id: ID!) { network(id: $id) { members { id displayName } } }"
    body = await networks.gql(client, "network_coordinator", query, id=str(networks.a))
    members = body["data"]["network"]["members"]
    ids = {m["displayName"]: m["id"] for m in members}
    held = str(date.today() - timedelta(days=1))
    made = await networks.gql(
        client, "network_coordinator", RECORD, network=str(networks.a),
        input={"heldOn": held, "presentMemberIds": [ids["Coordinator A"], ids["Partner A"]]},
    )  # fmt: skip
    meeting = made["data"]["recordMeeting"]
    assert (meeting["presentCount"], meeting["residentCount"], meeting["residentSharePercent"]) == (2, 1, 50)
    assert meeting["canDecide"] is False  # fewer than the quorum of three
    assert sorted(p["displayName"] for p in meeting["present"]) == ["Coordinator A", "Partner A"]
    future = {"heldOn": str(date.today() + timedelta(days=3)), "presentMemberIds": [ids["Partner A"]]}
    body = await networks.gql(client, "network_coordinator", RECORD, network=str(networks.a), input=future)
    assert body["data"]["recordMeeting"]["fields"] == [
        {"path": ["input", "held_on"], "rule": "meeting_in_future"}
    ]
    stranger = {"heldOn": held, "presentMemberIds": [ids["Partner A"], str(networks.b)]}
    body = await networks.gql(client, "network_coordinator", RECORD, network=str(networks.a), input=stranger)
    assert body["data"]["recordMeeting"]["fields"][0]["rule"] == "unknown_member"


async def test_outsiders_record_nothing_and_see_only_the_public_outcome(
    client: httpx.AsyncClient, networks: Networks, world: World
) -> None:
    [initiative] = await networks.initiatives("a", 1)
    meeting = await networks.meeting("a")
    await _decide(client, networks, initiative, meeting.decision("GRANTED", 10_000, publicSummary="Yes."))
    attempt = {"heldOn": str(date.today()), "presentMemberIds": [str(m) for m in meeting.present.values()]}
    # Another network's coordinator: the network answers as missing.
    body = await networks.gql(client, "coordinator_b", RECORD, network=str(networks.a), input=attempt)
    assert body["data"]["recordMeeting"]["__typename"] == "NotFoundProblem"
    # A member without networks:manage, and roles without the scope: refused by the field.
    for actor in ("resident", "analyst", "generalist_a", "partner_a", "anonymous"):
        body = await networks.gql(client, actor, RECORD, network=str(networks.a), input=attempt)
        assert body["data"] is None, actor
    home = await make_home(world, client, with_plan=False)
    member = await account(world, home)
    response = await client.post(
        "/graphql",
        json={"query": RECORD, "variables": {"network": str(networks.a), "input": attempt}},
        headers=await member.headers(),
    )
    assert response.json()["data"] is None
    assert await _count(networks, NetworkMeeting, col(NetworkMeeting.network_id) == networks.a) == 1
    # The dashboard: the outcome, tally and summary for everyone; who was present and who voted what
    # for members only.
    for actor in OUTSIDERS:
        seen = (await networks.gql(client, actor, DASHBOARD, id=str(networks.a)))["data"]["network"]
        [shown] = seen["meetings"]
        assert (shown["presentCount"], shown["canDecide"], shown["present"]) == (3, True, None), actor
        [grant] = seen["grants"]
        assert (grant["decision"], grant["votesFor"], grant["publicSummary"]) == ("GRANTED", 3, "Yes."), actor
        assert grant["ballots"] is None and grant["meetingId"] == str(meeting.id), actor
    response = await client.post(
        "/graphql",
        json={"query": DASHBOARD, "variables": {"id": str(networks.a)}},
        headers=await member.headers(),
    )
    assert "Coordinator A" not in response.text and "Partner A" not in response.text
    seen = (await networks.gql(client, "resident", DASHBOARD, id=str(networks.a)))["data"]["network"]
    assert len(seen["meetings"][0]["present"]) == 3 and len(seen["grants"][0]["ballots"]) == 3
