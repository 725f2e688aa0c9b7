"""Mutations through the real stack: lifecycle, optimistic concurrency, problems, and who may change what."""

from __future__ import annotations

from typing import Any

import httpx

from tests.graphql.documents import DECIDE, PROPOSE, REPORT, REQUEST, START, UPDATE, proposal
from tests.initiatives.factories import YEAR, Networks


async def _propose(client: httpx.AsyncClient, networks: Networks, actor: str = "resident") -> dict[str, Any]:
    body = await networks.gql(client, actor, PROPOSE, input=proposal(networks))
    result: dict[str, Any] = body["data"]["proposeInitiative"]
    assert result["__typename"] == "Initiative", body
    return result


async def test_the_whole_lifecycle(client: httpx.AsyncClient, networks: Networks) -> None:
    idea = await _propose(client, networks)
    assert (idea["status"], idea["version"], idea["initiator"]) == ("IDEA", 1, {"name": "Fatima El Amrani"})

    requested = (
        await networks.gql(client, "resident", REQUEST, id=idea["id"], v=1, amount=75_000, year=YEAR)
    )["data"]["requestGrant"]
    assert (requested["status"], requested["version"], requested["year"]) == ("REQUESTED", 2, YEAR)

    # The resident proposed it: recused at the meeting, the others vote.
    meeting = await networks.meeting("a")
    decision = meeting.decision("GRANTED", 60_000, without=("Resident A",), reason="Fits the debts priority.")
    granted = (await networks.gql(client, "network_coordinator", DECIDE, id=idea["id"], v=2, input=decision))[
        "data"
    ]["decideGrant"]
    assert granted["status"] == "GRANTED" and granted["grantedAmountCents"] == 60_000
    assert granted["grant"] == {
        "decision": "GRANTED",
        "amountCents": 60_000,
        "reason": "Fits the debts priority.",
    }

    running = (await networks.gql(client, "resident", START, id=idea["id"], v=3))["data"]["startInitiative"]
    assert running["status"] == "RUNNING"
    report = {
        "participantsReached": 42,
        "report": "Ten sessions, 42 visitors.",
        "endsOn": f"{YEAR}-12-01",
        "spentAmountCents": 45_000,
    }
    done = (await networks.gql(client, "resident", REPORT, id=idea["id"], v=4, input=report))["data"][
        "reportInitiative"
    ]
    assert (done["status"], done["participantsReached"], done["version"]) == ("COMPLETED", 42, 5)

    plan = await networks.gql(
        client,
        "anonymous",
        "query($id: ID!) { network(id: $id) { yearPlans { budgetCents grantedCents spentCents returnedCents"
        " availableCents } } }",
        id=str(networks.a),
    )
    # The 15,000 not spent is back in the budget.
    assert plan["data"]["network"]["yearPlans"] == [
        {
            "budgetCents": 1_000_000,
            "grantedCents": 60_000,
            "spentCents": 45_000,
            "returnedCents": 15_000,
            "availableCents": 955_000,
        }
    ]


async def test_illegal_transitions_are_conflicts(client: httpx.AsyncClient, networks: Networks) -> None:
    idea = await _propose(client, networks)
    started = (await networks.gql(client, "resident", START, id=idea["id"], v=1))["data"]["startInitiative"]
    assert started == {
        "__typename": "ConflictProblem",
        "rule": "initiative_status_transition",
        "message": started["message"],
    }
    decision = (await networks.meeting("a")).decision("REJECTED")
    decided = (await networks.gql(client, "network_coordinator", DECIDE, id=idea["id"], v=1, input=decision))[
        "data"
    ]["decideGrant"]
    assert decided["rule"] == "initiative_status_transition"
    [done] = await networks.funded("a", 1)
    edited = (await networks.gql(client, "resident", UPDATE, id=str(done), v=1, input={"title": "New"}))[
        "data"
    ]["updateInitiative"]
    assert edited["rule"] == "initiative_not_editable"


async def test_stale_versions_are_refused_and_change_nothing(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    idea = await _propose(client, networks)
    first = await networks.gql(client, "resident", UPDATE, id=idea["id"], v=1, input={"title": "Version two"})
    assert first["data"]["updateInitiative"]["version"] == 2
    stale = await networks.gql(
        client, "network_coordinator", UPDATE, id=idea["id"], v=1, input={"title": "Lost"}
    )
    assert stale["data"]["updateInitiative"]["__typename"] == "StaleVersionProblem"
    now = await networks.gql(
        client, "resident", "query($id: ID!) { initiative(id: $id) { title version } }", id=idea["id"]
    )
    assert now["data"]["initiative"] == {"title": "Version two", "version": 2}


async def test_invalid_input_names_field_and_rule_without_echoing_values(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    bad = proposal(
        networks, title="", themes=["no-such-theme"], initiator={"name": "X", "email": "secret-mail"}
    )
    result = (await networks.gql(client, "resident", PROPOSE, input=bad))["data"]["proposeInitiative"]
    assert result["__typename"] == "InvalidInputProblem"
    rules = {tuple(f["path"]): f["rule"] for f in result["fields"]}
    assert rules[("input", "title")] == "string_too_short"
    assert rules[("input", "initiator", "email")] == "string_pattern_mismatch"
    assert "secret-mail" not in str(result)
    unknown_theme = proposal(networks, themes=["no-such-theme"])
    result = (await networks.gql(client, "resident", PROPOSE, input=unknown_theme))["data"][
        "proposeInitiative"
    ]
    assert [(f["path"], f["rule"]) for f in result["fields"]] == [(["input", "themes"], "unknown_theme")]
    elsewhere = proposal(networks, buurt=networks.buurt_b)
    result = (await networks.gql(client, "resident", PROPOSE, input=elsewhere))["data"]["proposeInitiative"]
    assert result["fields"][0]["rule"] == "buurt_outside_network"


async def test_grants_stay_within_request_and_budget(client: httpx.AsyncClient, networks: Networks) -> None:
    idea = await _propose(client, networks)
    await networks.gql(client, "resident", REQUEST, id=idea["id"], v=1, amount=2_000_000, year=YEAR)
    meeting = await networks.meeting("a")
    too_much = meeting.decision("GRANTED", 2_000_000, without=("Resident A",))
    over = (await networks.gql(client, "network_coordinator", DECIDE, id=idea["id"], v=2, input=too_much))[
        "data"
    ]["decideGrant"]
    assert over["rule"] == "year_plan_budget_exceeded"
    beyond_request = meeting.decision("GRANTED", 2_000_001, without=("Resident A",))
    over = (
        await networks.gql(client, "network_coordinator", DECIDE, id=idea["id"], v=2, input=beyond_request)
    )["data"]["decideGrant"]
    assert over["rule"] == "grant_exceeds_request"
    no_plan = await _propose(client, networks)
    missing = (
        await networks.gql(client, "resident", REQUEST, id=no_plan["id"], v=1, amount=100, year=YEAR + 5)
    )["data"]["requestGrant"]
    assert missing["fields"][0]["rule"] == "no_year_plan"


async def test_outsiders_cannot_change_what_is_not_theirs(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    idea = await _propose(client, networks)
    [requested] = await networks.initiatives("a", 1)
    # Another network's resident and coordinator: the objects answer as missing.
    for actor in ("resident_b", "coordinator_b"):
        proposed = (await networks.gql(client, actor, PROPOSE, input=proposal(networks)))["data"]
        assert proposed["proposeInitiative"]["__typename"] == "NotFoundProblem"
        edited = (await networks.gql(client, actor, UPDATE, id=idea["id"], v=1, input={"title": "Mine"}))[
            "data"
        ]
        assert edited["updateInitiative"]["__typename"] == "NotFoundProblem"
    decision = (await networks.meeting("a")).decision("GRANTED", 100)
    decided = await networks.gql(client, "coordinator_b", DECIDE, id=str(requested), v=1, input=decision)
    assert decided["data"]["decideGrant"]["__typename"] == "NotFoundProblem"
    # A member without networks:manage cannot decide: refused by the field's permission.
    denied = await networks.gql(client, "resident", DECIDE, id=str(requested), v=1, input=decision)
    assert denied["data"] is None and denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # No write scope at all: BI, a case worker, a partner; anonymous callers are told to send a token.
    for actor in ("analyst", "generalist_a", "partner_a"):
        body = await networks.gql(client, actor, UPDATE, id=idea["id"], v=1, input={"title": "Mine"})
        assert body["data"] is None, actor
        assert body["errors"][0]["message"] == "The access token lacks a scope this field needs."
    body = await networks.gql(client, "anonymous", UPDATE, id=idea["id"], v=1, input={"title": "Mine"})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    after = await networks.gql(
        client, "resident", "query($id: ID!) { initiative(id: $id) { title version } }", id=idea["id"]
    )
    assert after["data"]["initiative"] == {"title": "Financieel café", "version": 1}
