"""The coordinator's side: who in a household may use self-service, switching it off and on (at once,
for every way in), and who may do that."""

from __future__ import annotations

import httpx

from tests.auth.helpers import Pkce, authorize_params, exchange, query_of, submit_login
from tests.factories import PASSWORD, World
from tests.self_service.support import Home, Signed, account, log_rows, make_home


def _base(home: Home) -> str:
    return f"/api/v1/households/{home.id}/self-service"


def _member(home: Home, name: str) -> str:
    return f"/api/v1/households/{home.id}/members/{home.members[name]}/self-service"


async def test_the_team_sees_who_can_use_it_with_the_defaults(home: Home, anna: Signed) -> None:
    response = await home.get(_base(home), "generalist_a2")  # anyone of the team who sees the file
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["enabled"], status["choice"], status["confidential"]) == (True, None, False)
    members = {m["given_name"]: m for m in status["members"]}
    assert {n: m["enabled"] for n, m in members.items()} == {"Anna": True, "Ewout": True, "Bram": False}
    assert members["Anna"]["account"] == {"username": anna.user.username, "activated": True, "active": True}
    assert members["Ewout"]["account"] is None and members["Bram"]["choice"] is None


async def test_a_confidential_household_starts_off_and_making_one_confidential_switches_it_off(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    hidden = await make_home(world, client, confidential=True, with_plan=False)
    assert (await hidden.get(_base(hidden))).json()["enabled"] is False
    assert (await client.get("/api/v1/me", headers=await anna.headers())).status_code == 200
    etag = (await home.get(f"/api/v1/households/{home.id}")).headers["ETag"]
    made = await client.patch(
        f"/api/v1/households/{home.id}",
        json={"confidential": True},
        headers={**await world.headers("generalist_a"), "If-Match": etag},
    )
    assert made.status_code == 200, made.text
    assert (await home.get(_base(home))).json()["choice"] is False
    assert (await client.get("/api/v1/me", headers=await anna.headers())).status_code == 404


async def test_switching_a_member_off_stops_every_way_in_at_once(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    token = await anna.token()
    pkce = Pkce.new()
    params = authorize_params(world, pkce)
    signed_in = await submit_login(client, params, anna.user.username, PASSWORD)
    assert signed_in.status_code == 302, signed_in.text
    tokens = await exchange(client, world, query_of(signed_in.headers["location"])["code"], pkce.verifier)
    assert tokens.status_code == 200, tokens.text
    refresh = tokens.json()["refresh_token"]

    off = await home.post(_member(home, "Anna") + "/switch", {"enabled": False})
    assert off.status_code == 200, off.text
    assert {m["given_name"]: m["enabled"] for m in off.json()["members"]}["Anna"] is False

    refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 404  # the token still verifies; the member rule says no
    [row] = await log_rows(world, refused.headers["X-Request-ID"])
    assert (row.outcome, row.actor_role) == ("denied", "household_member")
    again = await submit_login(client, authorize_params(world, Pkce.new()), anna.user.username, PASSWORD)
    assert again.status_code == 400 and "onjuist" in again.text  # the same answer as a wrong password
    renewed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": world.clients["mobile_app"].client_id,
        },
    )
    assert renewed.status_code == 400 and renewed.json()["error"] == "invalid_grant"

    on = await home.post(_member(home, "Anna") + "/switch", {"enabled": True})
    assert on.status_code == 200
    assert (await client.get("/api/v1/me", headers=await anna.headers())).status_code == 200


async def test_switching_the_household_off_covers_every_member_and_null_restores_the_default(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    ewout = await account(world, home, "Ewout")
    off = await home.post(_base(home) + "/switch", {"enabled": False}, "team_lead_a")  # a team lead may
    assert off.status_code == 200 and off.json()["enabled"] is False
    for member in (anna, ewout):
        assert (await client.get("/api/v1/me/plan", headers=await member.headers())).status_code == 404
    default = await home.post(_base(home) + "/switch", {"enabled": None})
    assert default.json()["choice"] is None and default.json()["enabled"] is True
    assert (await client.get("/api/v1/me/plan", headers=await anna.headers())).status_code == 200
    child = await home.post(_member(home, "Bram") + "/switch", {"enabled": True})
    assert {m["given_name"]: m["enabled"] for m in child.json()["members"]}["Bram"] is True


async def test_only_the_coordinator_or_a_team_lead_switches(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    colleague = await home.post(_base(home) + "/switch", {"enabled": False}, "generalist_a2")
    assert colleague.status_code == 403 and colleague.json()["type"].endswith("coordinator_only")
    assert (await home.post(_base(home) + "/switch", {"enabled": False}, "generalist_b")).status_code == 404
    for outsider in ("partner_a", "analyst", "privacy_officer", "admin", "resident", "network_coordinator"):
        refused = await home.post(_member(home, "Ewout") + "/switch", {"enabled": False}, outsider)
        assert refused.status_code == 403, outsider
        assert (await home.get(_base(home), outsider)).status_code == 403, outsider
    as_member = await client.post(
        _member(home, "Ewout") + "/switch", json={"enabled": False}, headers=await anna.headers()
    )
    assert as_member.status_code == 403
    anonymous = await client.post(_base(home) + "/switch", json={"enabled": False})
    assert anonymous.status_code == 401
    assert (await home.get(_base(home))).json()["enabled"] is True  # nothing changed


async def test_a_switch_names_a_member_of_this_household(
    world: World, client: httpx.AsyncClient, home: Home
) -> None:
    other = await make_home(world, client, with_plan=False)
    wrong = await client.post(
        f"/api/v1/households/{home.id}/members/{other.members['Anna']}/self-service/switch",
        json={"enabled": False},
        headers=await world.headers("generalist_a"),
    )
    assert wrong.status_code == 404
    bad = await home.post(_base(home) + "/switch", {"enabled": "maybe"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "enabled"]
    assert "maybe" not in bad.text
