"""Demo self-service: household members of the demo with working credentials, an activation code to
try the invitation, and an access log that shows the team's reads; a second load keeps them."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.demo import load_demo, write_credentials
from tests.auth.helpers import Pkce, authorize_params, exchange, hidden_fields, query_of, submit_login
from tests.factories import World


async def _token(client: httpx.AsyncClient, world: World, username: str, password: str) -> str:
    pkce = Pkce.new()
    signed = await submit_login(client, authorize_params(world, pkce), username, password)
    assert signed.status_code == 302, signed.text
    tokens = await exchange(client, world, query_of(signed.headers["location"])["code"], pkce.verifier)
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access_token"])


async def test_demo_household_members_sign_in_and_see_their_file(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    credentials = await load_demo(
        app.state.db, app.state.settings, app.state.wiring, app.state.secret_hasher, households=80
    )
    write_credentials(app.state.settings, credentials)
    members = {k: v for k, v in credentials["users"].items() if k.startswith("household_member")}
    assert set(members) == {"household_member_1", "household_member_2"}
    assert len({m["household"] for m in members.values()}) == 2
    for member in members.values():
        bearer = {
            "Authorization": f"Bearer {await _token(client, world, member['username'], member['password'])}"
        }
        me = await client.get("/api/v1/me", headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json()["household"]["reference"] == member["household"]
        assert (await client.get("/api/v1/me/plan", headers=bearer)).status_code == 200
        assert (await client.get("/api/v1/me/consents", headers=bearer)).json()["items"]
        log = await client.get("/api/v1/me/access-log", headers=bearer)
        assert {e["who"] for e in log.json()["items"]} >= {
            "A generalist of the wijkteam",
            "A team lead of the wijkteam",
        }

    invitation = credentials["activation_codes"]["household_member_3"]
    again = await load_demo(
        app.state.db, app.state.settings, app.state.wiring, app.state.secret_hasher, households=80
    )
    assert again["users"] == credentials["users"]  # the same accounts and passwords
    assert again["activation_codes"] == credentials["activation_codes"]  # the code is still good

    form = await client.get(invitation["activate_at"])
    fields = hidden_fields(form.text) | {
        "code": invitation["code"],
        "password": "demo wachtwoord van bewoner drie",
        "password_repeat": "demo wachtwoord van bewoner drie",
    }
    activated = await client.post(invitation["activate_at"], data=fields)
    assert activated.status_code == 200 and invitation["username"] in activated.text
    token = await _token(client, world, invitation["username"], "demo wachtwoord van bewoner drie")
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    write_credentials(app.state.settings, again)
    renewed = await load_demo(
        app.state.db, app.state.settings, app.state.wiring, app.state.secret_hasher, households=80
    )
    assert renewed["activation_codes"]["household_member_3"]["code"] != invitation["code"]  # used: a new one
