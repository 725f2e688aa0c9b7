"""A plan action names what takes it up: a service of the sociale kaart or a running resident initiative
of the household's buurt (issue 13 item 5, issue 15 item 8). Every broken rule is a 422 naming the
field and the rule, on the single action routes and in a whole new version alike, and nothing is
written then."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.casework.api import CaseApi, etag
from tests.casework.conftest import Cases
from tests.directory.community import initiative
from tests.directory.support import Directory, make_directory
from tests.self_service.support import account, make_home


@pytest.fixture
def api(client: httpx.AsyncClient, cases: Cases) -> CaseApi:
    return CaseApi(client, cases)


@pytest.fixture
async def directory(cases: Cases, client: httpx.AsyncClient) -> Directory:
    return await make_directory(cases.world, client)


async def _add(api: CaseApi, plan_id: str, **fields: Any) -> httpx.Response:
    body = {"description": "Meedoen", "performer_kind": "household", **fields}
    return await api.client.post(
        f"{api.base('a')}/plans/{plan_id}/actions", json=body, headers=await api.cases.headers("generalist_a")
    )


def _rules(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(e["loc"][-1], e["rule"]) for e in response.json()["errors"]]


async def test_an_action_names_a_service_or_an_initiative_and_the_plan_shows_it(
    api: CaseApi, cases: Cases, directory: Directory
) -> None:
    plan = await api.plan("a")
    cafe = await initiative(cases.world, 0)  # household "a" lives in buurt 0
    service = await api.action("a", plan["id"], service_id=directory.id("debt_a"), performer_kind="partner")
    joins = await api.action("a", plan["id"], initiative_id=str(cafe))
    internal = await api.action("a", plan["id"], service_id=directory.id("internal_a"))  # workers may
    assert (service["service_id"], service["initiative_id"]) == (directory.id("debt_a"), None)
    assert (joins["initiative_id"], joins["service_id"]) == (str(cafe), None)
    assert internal["service_id"] == directory.id("internal_a")
    read = (await api.client.get(api.base("a") + "/plan", headers=await cases.headers("generalist_a"))).json()
    shown = {a["id"]: (a["service_id"], a["initiative_id"]) for a in read["actions"]}
    assert shown[joins["id"]] == (None, str(cafe)) and shown[service["id"]] == (directory.id("debt_a"), None)

    # A new version names them too, and a PATCH changes them (If-Match as always).
    version = await api.plan(
        "a",
        actions=[{"description": "Naar het café", "performer_kind": "volunteer", "initiative_id": str(cafe)}],
    )
    assert version["actions"][-1]["initiative_id"] == str(cafe)
    action = version["actions"][-1]
    patched = await api.client.patch(
        f"{api.base('a')}/plans/{version['id']}/actions/{action['id']}",
        json={"initiative_id": None, "service_id": directory.id("debt_a")},
        headers=await cases.headers("generalist_a", **{"If-Match": etag(action)}),
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["service_id"], patched.json()["initiative_id"]) == (directory.id("debt_a"), None)


async def test_an_offer_that_does_not_fit_is_refused_naming_field_and_rule(
    api: CaseApi, cases: Cases, directory: Directory
) -> None:
    plan = await api.plan("a")
    elsewhere = await initiative(cases.world, 2)  # another buurt
    idea = await initiative(cases.world, 0, status="idea")
    cafe = await initiative(cases.world, 0)
    closed = directory.services["housing_b"]
    etag_b = (
        await api.client.get(
            f"/api/v1/directory/services/{closed['id']}", headers=await cases.world.headers("admin")
        )
    ).headers["ETag"]
    await api.client.patch(
        f"/api/v1/directory/services/{closed['id']}",
        json={"status": "temporarily closed"},
        headers={**await cases.world.headers("admin"), "If-Match": etag_b},
    )
    missing = "00000000-0000-4000-8000-000000000001"
    assert _rules(await _add(api, plan["id"], service_id=missing)) == [("service_id", "service_unknown")]
    assert _rules(await _add(api, plan["id"], service_id=closed["id"])) == [
        ("service_id", "service_not_active")
    ]
    assert _rules(await _add(api, plan["id"], initiative_id=missing)) == [
        ("initiative_id", "initiative_unknown")
    ]
    assert _rules(await _add(api, plan["id"], initiative_id=str(elsewhere))) == [
        ("initiative_id", "initiative_not_in_buurt")
    ]
    assert _rules(await _add(api, plan["id"], initiative_id=str(idea))) == [
        ("initiative_id", "initiative_not_running")
    ]
    assert _rules(await _add(api, plan["id"], initiative_id=str(cafe), performer_kind="worker")) == [
        ("initiative_id", "performer_link_mismatch")
    ]
    both = await _add(api, plan["id"], initiative_id=str(cafe), service_id=directory.id("debt_a"))
    assert _rules(both) == [("initiative_id", "one_offer")]
    # A whole version is checked the same way, each action at its own place.
    body = api.plan_body(
        plan["id"],
        actions=[
            {"description": "Café", "performer_kind": "household", "initiative_id": str(elsewhere)},
            {"description": "Dienst", "performer_kind": "household", "service_id": missing},
        ],
    )
    refused = await api.client.post(
        api.base("a") + "/plans", json=body, headers=await cases.headers("generalist_a")
    )
    assert refused.status_code == 422
    assert [(".".join(map(str, e["loc"])), e["rule"]) for e in refused.json()["errors"]] == [
        ("body.actions.0.initiative_id", "initiative_not_in_buurt"),
        ("body.actions.1.service_id", "service_unknown"),
    ]
    still = (
        await api.client.get(api.base("a") + "/plan", headers=await cases.headers("generalist_a"))
    ).json()
    assert still["id"] == plan["id"] and len(still["actions"]) == len(plan["actions"])


async def test_only_the_households_team_names_offers_in_its_plan(
    api: CaseApi, cases: Cases, directory: Directory
) -> None:
    plan = await api.plan("a")
    cafe = await initiative(cases.world, 0)
    url = f"{api.base('a')}/plans/{plan['id']}/actions"
    body = {"description": "Meedoen", "performer_kind": "household", "initiative_id": str(cafe)}
    answers = {}
    for actor in ("generalist_b", "partner_a", "analyst", "resident", "admin", "anonymous"):
        response = await api.client.post(url, json=body, headers=await cases.world.headers(actor))
        answers[actor] = response.status_code
    assert answers == {
        "generalist_b": 404,  # another team: the household looks missing
        "partner_a": 403,
        "analyst": 403,
        "resident": 403,
        "admin": 403,
        "anonymous": 401,
    }
    # A household member, on their own household's plan.
    home = await make_home(cases.world, api.client)
    member = await account(cases.world, home, "Anna")
    own = await api.client.post(
        f"/api/v1/households/{home.id}/plans/{home.plan['id']}/actions",
        json={**body, "service_id": None, "initiative_id": None},
        headers=await member.headers(),
    )
    assert own.status_code == 403
    still = (
        await api.client.get(api.base("a") + "/plan", headers=await cases.headers("generalist_a"))
    ).json()
    assert len(still["actions"]) == len(plan["actions"])
