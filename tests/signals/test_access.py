"""Who reaches the policy signals: the usual outsiders never; the raising team sees which households,
everyone else a count under disclosure control; the policy officer reads signals and never case data."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.public import PUBLIC_ROUTES
from tests.contract.routes import MOUNT, WEBSOCKET, endpoints
from tests.factories import World
from tests.self_service.support import account, make_home
from tests.signals.support import BASE, Signals, signal_body

OUTSIDERS = [("anonymous", 401), ("partner_a", 403), ("analyst", 403), ("resident", 403)]
OUTSIDERS += [("network_coordinator", 403), ("privacy_officer", 403), ("admin", 403)]
PARAMETER = re.compile(r"{([^}:]+)(:[^}]+)?}")


async def _routes(signals: Signals) -> list[tuple[str, str, dict[str, Any] | None]]:
    submitted = await signals.submitted()
    one = f"{BASE}/{submitted.json()['id']}"
    return [
        ("GET", BASE, None),
        ("POST", BASE, signal_body()),
        ("GET", one, None),
        ("PATCH", one, {"title": "x"}),
        ("POST", f"{one}/submit", {}),
        ("POST", f"{one}/decisions", {"status": "in_consideration"}),
    ]


@pytest.mark.parametrize(("actor", "status"), OUTSIDERS)
async def test_outsiders_reach_no_route(signals: Signals, actor: str, status: int) -> None:
    for method, path, body in await _routes(signals):
        headers = await signals.world.headers(actor)
        response = await signals.client.request(method, path, headers=headers, json=body)
        assert response.status_code == status, (method, path, response.text)
        assert "PGB" not in response.text


async def test_a_household_member_reaches_no_route(signals: Signals) -> None:
    home = await make_home(signals.world, signals.client)
    member = await account(signals.world, home, "Anna")
    headers = await member.headers()
    for method, path, body in await _routes(signals):
        response = await signals.client.request(method, path, headers=headers, json=body)
        assert response.status_code == 403, (method, path)


async def test_another_team_reads_a_submitted_signal_only_as_a_team_lead(signals: Signals) -> None:
    submitted = await signals.submitted()
    one = f"{BASE}/{submitted.json()['id']}"
    assert (await signals.send("GET", one, "generalist_b")).status_code == 404
    assert (await signals.send("GET", one, "team_lead_b")).status_code == 200
    changed = await signals.send(
        "PATCH", one, "team_lead_b", json={"title": "x"}, headers={"If-Match": submitted.headers["etag"]}
    )
    assert changed.status_code == 404


async def test_only_the_raising_team_sees_which_households(signals: Signals) -> None:
    households = [await signals.household() for _ in range(3)]
    draft = await signals.draft(household_ids=households)
    own = draft.json()["linked_households"]
    # Linked in one statement: rows may share their linked_at, so the order within it is not promised.
    assert (
        own["count"] == 3 and own["suppressed"] is None and sorted(own["household_ids"]) == sorted(households)
    )
    submitted = await signals.step(draft, "team_lead_a", "submit", {})
    for actor in ("policy_officer", "team_lead_b"):
        seen = (await signals.ok("GET", f"{BASE}/{draft.json()['id']}", actor)).json()
        assert seen["linked_households"] == {
            "count": None,
            "suppressed": "below_threshold",
            "household_ids": None,
        }
        assert not any(h in str(seen) for h in households)
    assert sorted(submitted.json()["linked_households"]["household_ids"]) == sorted(households)


async def test_a_count_above_the_threshold_is_published_rounded(signals: Signals) -> None:
    households = [await signals.household() for _ in range(12)]
    submitted = await signals.submitted(household_ids=households)
    seen = (await signals.ok("GET", f"{BASE}/{submitted.json()['id']}", "policy_officer")).json()
    assert seen["linked_households"] == {"count": 10, "suppressed": None, "household_ids": None}


async def test_a_household_outside_the_caseload_cannot_be_linked(signals: Signals) -> None:
    other_team = await signals.household("generalist_b", team="b")
    response = await signals.send("POST", BASE, "generalist_a", json=signal_body(household_ids=[other_team]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "household_unknown"


def _path(template: str) -> str:
    return PARAMETER.sub(lambda m: str(uuid.uuid4()), template)


async def test_the_policy_officer_reaches_no_case_data(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    """Every route but the signals' and the public ones, with the policy officer's token: refused."""
    headers = await world.headers("policy_officer")
    walked = 0
    for endpoint in endpoints(app):
        if endpoint.method in (MOUNT, WEBSOCKET) or endpoint.key in PUBLIC_ROUTES:
            continue
        if endpoint.path.startswith(("/api/v1/policy-signals", "/docs")):
            continue
        body: dict[str, Any] | None = {} if endpoint.method in ("POST", "PUT", "PATCH") else None
        response = await client.request(endpoint.method, _path(endpoint.path), headers=headers, json=body)
        walked += 1
        assert response.status_code in (403, 404), (endpoint.method, endpoint.path, response.status_code)
    assert walked > 100
