"""Authorization code + PKCE (S256 only) through the login page, end to end over HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col

from app.domain.identity.models import User
from tests.auth.helpers import (
    REDIRECT_URI,
    Pkce,
    assert_oauth_error,
    authorize_params,
    exchange,
    hidden_fields,
    query_of,
    sign_in,
    submit_login,
    unverified_claims,
)
from tests.factories import World


async def test_a_person_signs_in_and_calls_the_api(client: httpx.AsyncClient, world: World) -> None:
    pkce = Pkce.new()
    params = authorize_params(world, pkce)
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "unsafe-inline" not in csp
    assert "<script" not in page.text.lower() and " on" not in page.text.lower().split("<style>")[0]
    assert 'autocomplete="username"' in page.text and 'autocomplete="current-password"' in page.text
    assert page.headers["cache-control"] == "no-store"
    fields = hidden_fields(page.text)
    assert fields["csrf_token"] and fields["state"] == params["state"]

    form = fields | {
        "username": world.people["admin"].username,
        "password": "correct horse battery staple",
    }
    redirect = await client.post("/oauth/authorize", data=form)
    assert redirect.status_code == 302
    query = query_of(redirect.headers["location"])
    assert redirect.headers["location"].startswith(REDIRECT_URI + "?")
    assert query["state"] == params["state"] and query["iss"] == "http://test" and query["code"]

    token = await exchange(client, world, query["code"], pkce.verifier)
    assert token.status_code == 200, token.text
    assert token.headers["cache-control"] == "no-store"
    body = token.json()
    assert (
        body["token_type"] == "Bearer"
        and body["scope"] == "admin services:write"
        and body["expires_in"] <= 3600
    )
    claims = unverified_claims(body["access_token"])
    assert claims["role"] == "admin" and claims["sub"] == str(world.people["admin"].user.id)
    assert claims["client_id"] == world.clients["mobile_app"].client_id

    areas = await client.get("/api/v1/areas", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert areas.status_code == 200, areas.text


async def test_a_generalist_gets_worker_and_team_claims(client: httpx.AsyncClient, world: World) -> None:
    pkce = Pkce.new()
    query = await sign_in(client, world, "generalist_a", pkce, scope="cases:read")
    body = (await exchange(client, world, query["code"], pkce.verifier)).json()
    assert body["scope"] == "cases:read"
    claims = unverified_claims(body["access_token"])
    worker = world.people["generalist_a"].worker
    assert worker is not None and claims["worker_id"] == str(worker.id)
    assert claims["teams"] == [str(world.teams["a"].id)]


async def test_a_wrong_verifier_is_invalid_grant_and_burns_the_code(
    client: httpx.AsyncClient, world: World
) -> None:
    pkce = Pkce.new()
    query = await sign_in(client, world, "generalist_b", pkce)
    assert_oauth_error(await exchange(client, world, query["code"], Pkce.new().verifier), "invalid_grant")
    # The code is spent: even the right verifier cannot use it now.
    assert_oauth_error(await exchange(client, world, query["code"], pkce.verifier), "invalid_grant")


async def test_a_reused_code_is_invalid_grant(client: httpx.AsyncClient, world: World) -> None:
    pkce = Pkce.new()
    query = await sign_in(client, world, "resident", pkce)
    assert (await exchange(client, world, query["code"], pkce.verifier)).status_code == 200
    assert_oauth_error(await exchange(client, world, query["code"], pkce.verifier), "invalid_grant")


async def test_the_code_needs_its_verifier_redirect_uri_and_client(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    for mistake in ("no_verifier", "other_redirect", "other_client", "unknown_code"):
        pkce = Pkce.new()
        query = await sign_in(client, world, "team_lead_a", pkce)
        if mistake == "no_verifier":
            response = await exchange(client, world, query["code"], None)
        elif mistake == "other_redirect":
            response = await exchange(
                client, world, query["code"], pkce.verifier, redirect_uri="http://127.0.0.1/other"
            )
        elif mistake == "other_client":
            partner = world.clients["partner_a"].client_id
            response = await client.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": query["code"],
                    "code_verifier": pkce.verifier,
                },
                auth=(partner, world.secrets["partner_a"]),
            )
        else:
            response = await exchange(client, world, query["code"] + "x", pkce.verifier)
        assert_oauth_error(response, "invalid_grant")


async def test_plain_pkce_and_missing_challenge_are_refused(client: httpx.AsyncClient, world: World) -> None:
    pkce = Pkce.new()
    for overrides in (
        {"code_challenge_method": "plain", "code_challenge": pkce.verifier},
        {"code_challenge_method": None},
        {"code_challenge": None},
        {"code_challenge": "short"},
    ):
        params = authorize_params(world, pkce, **overrides)
        response = await client.get("/oauth/authorize", params=params)
        assert response.status_code == 302, overrides
        query = query_of(response.headers["location"])
        assert response.headers["location"].startswith(REDIRECT_URI + "?")
        assert query["error"] == "invalid_request" and query["state"] == params["state"]
        assert "code" not in query


async def test_implicit_and_unknown_response_types_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    for response_type in ("token", "id_token", "code token"):
        params = authorize_params(world, Pkce.new(), response_type=response_type)
        response = await client.get("/oauth/authorize", params=params)
        assert response.status_code == 302
        assert query_of(response.headers["location"])["error"] == "unsupported_response_type"


async def test_an_unregistered_redirect_uri_is_never_redirected_to(
    client: httpx.AsyncClient, world: World
) -> None:
    pkce = Pkce.new()
    for overrides in (
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": REDIRECT_URI + "/more"},
        {"redirect_uri": REDIRECT_URI + "?x=1"},
        {"redirect_uri": None},
        {"client_id": "no-such-client", "redirect_uri": "https://evil.example/callback"},
        {"client_id": world.clients["partner_a"].client_id},  # a machine client has no login flow
        {"client_id": None, "response_type": "token"},
    ):
        response = await client.get("/oauth/authorize", params=authorize_params(world, pkce, **overrides))
        assert response.status_code == 400, overrides
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")
        assert "evil.example" not in response.text


async def test_repeated_parameters_get_an_error_page(client: httpx.AsyncClient, world: World) -> None:
    params: list[tuple[str, str | int | float | bool | None]] = [
        *authorize_params(world, Pkce.new()).items(),
        ("redirect_uri", "https://evil.example/"),
    ]
    response = await client.get("/oauth/authorize", params=params)
    assert response.status_code == 400 and "location" not in response.headers


@pytest.mark.parametrize("who", ["wrong_password", "unknown_user", "empty_password"])
async def test_a_failed_sign_in_gives_no_code(client: httpx.AsyncClient, world: World, who: str) -> None:
    params = authorize_params(world, Pkce.new())
    username = world.people["generalist_a"].username
    if who == "unknown_user":
        username = "nobody-" + username
    password = {"wrong_password": "wrong horse", "empty_password": ""}.get(
        who, "correct horse battery staple"
    )
    response = await submit_login(client, params, username, password)
    assert response.status_code == 400
    assert "location" not in response.headers and "code=" not in response.text
    assert "Gebruikersnaam of wachtwoord onjuist." in response.text
    assert username not in response.text  # nothing submitted is echoed
    assert hidden_fields(response.text)["csrf_token"]  # a fresh form to try again


async def test_inactive_users_and_machine_roles_cannot_sign_in(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    person = world.people["privacy_officer"].user
    async with app.state.db.transaction() as session:
        await session.execute(update(User).where(col(User.id) == person.id).values(active=False))
    response = await submit_login(client, authorize_params(world, Pkce.new()), person.username)
    assert response.status_code == 400 and "location" not in response.headers

    async with app.state.db.transaction() as session:
        machine_like = User(
            username=f"partner-person-{person.username}",
            password_hash=world.people["admin"].user.password_hash,
            display_name="not a person role",
            role="partner",
        )
        session.add(machine_like)
    response = await submit_login(client, authorize_params(world, Pkce.new()), machine_like.username)
    assert response.status_code == 400 and "location" not in response.headers


async def test_the_form_is_bound_to_the_browser_and_the_request(
    client: httpx.AsyncClient, world: World
) -> None:
    pkce = Pkce.new()
    params = authorize_params(world, pkce)
    page = await client.get("/oauth/authorize", params=params)
    form = hidden_fields(page.text) | {
        "username": world.people["team_lead_b"].username,
        "password": "correct horse battery staple",
    }
    # Another code_challenge than the page was rendered for (a swapped request).
    swapped = form | {"code_challenge": Pkce.new().challenge}
    # A forged token.
    forged = form | {"csrf_token": "9999999999." + "0" * 64}
    for attempt in (swapped, forged):
        _assert_form_refused(await client.post("/oauth/authorize", data=attempt))
    # No cookie: another browser replaying the form.
    client.cookies.clear()
    _assert_form_refused(await client.post("/oauth/authorize", data=form))


def _assert_form_refused(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "verlopen" in response.text


async def test_requested_scopes_are_limited_to_the_person(client: httpx.AsyncClient, world: World) -> None:
    pkce = Pkce.new()
    # Not even asked of the person: unknown scope names are refused before the login page.
    response = await client.get("/oauth/authorize", params=authorize_params(world, pkce, scope="root"))
    assert query_of(response.headers["location"])["error"] == "invalid_scope"
    # A real scope the person does not hold: refused after sign-in, without a code.
    params = authorize_params(world, pkce, scope="stats:read")
    response = await submit_login(client, params, world.people["resident"].username)
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_scope" and "code" not in query


async def test_a_public_client_cannot_use_client_credentials_or_the_password_grant(
    client: httpx.AsyncClient, world: World
) -> None:
    app_id = world.clients["mobile_app"].client_id
    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": app_id}
    )
    assert_oauth_error(response, "unauthorized_client")
    password_grant = {
        "grant_type": "password",
        "client_id": app_id,
        "username": world.people["admin"].username,
        "password": "correct horse battery staple",
    }
    assert_oauth_error(await client.post("/oauth/token", data=password_grant), "unsupported_grant_type")
