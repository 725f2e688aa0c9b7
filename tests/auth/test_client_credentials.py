"""client_credentials for partner and BI clients: client_secret_basic and private_key_jwt."""

from __future__ import annotations

import base64
import secrets
import time

import httpx
import pytest
from fastapi import FastAPI
from joserfc.jwk import ECKey

from app.domain.identity.clients import JWT_BEARER_ASSERTION
from app.domain.identity.models import ClientAuthMethod, OAuthClient
from app.security.principal import Principal
from tests.auth.helpers import (
    TOKEN_URL,
    assert_oauth_error,
    basic,
    client_assertion,
    new_ec_key,
    unverified_claims,
)
from tests.factories import World

TOKEN_ENDPOINT = "http://test/oauth/token"


async def _credentials(client: httpx.AsyncClient, world: World, name: str, **form: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", **form}
    headers = basic(world.clients[name].client_id, world.secrets[name])
    return await client.post(TOKEN_URL, data=data, headers=headers)


async def test_a_partner_gets_a_token_with_its_scopes(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    response = await _credentials(client, world, "partner_a")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"referrals:read", "referrals:write", "services:write"}
    header = base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "==")
    assert b'"typ":"at+jwt"' in header.replace(b" ", b"")

    principal: Principal = await app.state.token_verifier.verify(body["access_token"])
    assert principal.role == "partner" and principal.is_machine
    assert principal.organisation_id == world.organisations["a"].id
    assert principal.client_id == world.clients["partner_a"].client_id
    # The token works at the API: authenticated, but this route needs a scope a partner never has.
    denied = await client.get("/api/v1/areas", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert denied.status_code == 403


async def test_a_narrower_scope_can_be_asked_for(client: httpx.AsyncClient, world: World) -> None:
    response = await _credentials(client, world, "analyst", scope="stats:read")
    assert response.json()["scope"] == "stats:read"
    assert unverified_claims(response.json()["access_token"])["scope"] == "stats:read"


@pytest.mark.parametrize("scope", ["stats:read", "admin", "cases:read", "referrals:read root", "bsn:read"])
async def test_scopes_outside_the_allowlist_are_invalid_scope(
    client: httpx.AsyncClient, world: World, scope: str
) -> None:
    assert_oauth_error(await _credentials(client, world, "partner_b", scope=scope), "invalid_scope")


async def test_a_wrong_secret_is_invalid_client(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers=basic(world.clients["partner_a"].client_id, "not-the-secret"),
    )
    assert_oauth_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_an_unknown_client_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=basic("no-such-client", "secret")
    )
    assert_oauth_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic !!!notbase64"},
        {"Authorization": "Basic " + base64.b64encode(b"x").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"nul\x00id:secret").decode()},
    ],
)
async def test_missing_or_malformed_client_authentication(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post(TOKEN_URL, data={"grant_type": "client_credentials"}, headers=headers)
    assert_oauth_error(response, "invalid_client", 401)


async def test_client_secret_post_is_refused(client: httpx.AsyncClient, world: World) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": world.clients["partner_a"].client_id,
        "client_secret": world.secrets["partner_a"],
    }
    assert_oauth_error(await client.post(TOKEN_URL, data=form), "invalid_client", 401)


async def test_password_grant_and_other_grants_are_unsupported(
    client: httpx.AsyncClient, world: World
) -> None:
    for grant in ("password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"):
        response = await _credentials(
            client, world, "partner_a", grant_type=grant, username="u", password="p"
        )
        assert_oauth_error(response, "unsupported_grant_type")


async def test_malformed_requests_are_invalid_request(client: httpx.AsyncClient, world: World) -> None:
    headers = basic(world.clients["partner_a"].client_id, world.secrets["partner_a"])
    assert_oauth_error(await client.post(TOKEN_URL, data={}, headers=headers), "invalid_request")
    as_json = await client.post(TOKEN_URL, json={"grant_type": "client_credentials"}, headers=headers)
    assert_oauth_error(as_json, "invalid_request")
    repeated = await client.post(
        TOKEN_URL,
        content="grant_type=client_credentials&grant_type=password",
        headers=headers | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_oauth_error(repeated, "invalid_request")
    nul = await client.post(
        TOKEN_URL,
        content="grant_type=client_credentials&client_id=a%00b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_oauth_error(nul, "invalid_request")


async def test_get_on_the_token_endpoint_is_405(client: httpx.AsyncClient) -> None:
    response = await client.get(TOKEN_URL)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


# -- private_key_jwt -----------------------------------------------------------------------------


async def _key_client(app: FastAPI, world: World, key: ECKey, name: str) -> OAuthClient:
    client = OAuthClient(
        client_id=f"{name}-{secrets.token_hex(4)}",
        name=name,
        role="partner",
        organisation_id=world.organisations["a"].id,
        auth_method=ClientAuthMethod.private_key_jwt,
        jwks={"keys": [key.as_dict(private=False)]},
        allowed_scopes=["referrals:read", "referrals:write"],
    )
    async with app.state.db.transaction() as session:
        session.add(client)
    return client


def _assertion_form(assertion: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER_ASSERTION,
        "client_assertion": assertion,
        **extra,
    }


async def test_private_key_jwt_good_then_replayed(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    key = new_ec_key()
    registered = await _key_client(app, world, key, "keyed-partner")
    assertion = client_assertion(key, registered.client_id, TOKEN_ENDPOINT)
    response = await client.post(TOKEN_URL, data=_assertion_form(assertion, scope="referrals:read"))
    assert response.status_code == 200, response.text
    principal: Principal = await app.state.token_verifier.verify(response.json()["access_token"])
    assert principal.client_id == registered.client_id and principal.scopes == {"referrals:read"}

    replay = await client.post(TOKEN_URL, data=_assertion_form(assertion))
    assert_oauth_error(replay, "invalid_client", 401)
    assert "already used" in replay.json()["error_description"]

    # The issuer is an accepted audience too, and a fresh jti works again.
    again = client_assertion(key, registered.client_id, "http://test")
    ok = await client.post(TOKEN_URL, data=_assertion_form(again, client_id=registered.client_id))
    assert ok.status_code == 200


async def test_private_key_jwt_refusals(client: httpx.AsyncClient, world: World, app: FastAPI) -> None:
    key = new_ec_key()
    registered = await _key_client(app, world, key, "keyed-partner")
    cid = registered.client_id
    now = int(time.time())
    bad = {
        "wrong key": client_assertion(new_ec_key(kid=str(key.kid)), cid, TOKEN_ENDPOINT),
        "wrong audience": client_assertion(key, cid, "https://elsewhere.example/token"),
        "wrong issuer": client_assertion(key, cid, TOKEN_ENDPOINT, iss="someone-else"),
        "expired": client_assertion(key, cid, TOKEN_ENDPOINT, exp=now - 120, iat=now - 180),
        "too long-lived": client_assertion(key, cid, TOKEN_ENDPOINT, exp=now + 3600),
        "no jti": client_assertion(key, cid, TOKEN_ENDPOINT, jti=None),
        "no exp": client_assertion(key, cid, TOKEN_ENDPOINT, exp=None),
        "garbage": "not.a.jwt",
    }
    for why, assertion in bad.items():
        response = await client.post(TOKEN_URL, data=_assertion_form(assertion))
        assert response.status_code == 401, why
        assert response.json()["error"] == "invalid_client", why
    wrong_type = _assertion_form(client_assertion(key, cid, TOKEN_ENDPOINT))
    wrong_type["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    assert_oauth_error(await client.post(TOKEN_URL, data=wrong_type), "invalid_client", 401)


async def test_a_client_uses_only_its_registered_method(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    # A secret client cannot switch to an assertion signed by some key of its own choosing.
    rogue = new_ec_key()
    secret_client = world.clients["partner_b"].client_id
    assertion = client_assertion(rogue, secret_client, TOKEN_ENDPOINT)
    assert_oauth_error(await client.post(TOKEN_URL, data=_assertion_form(assertion)), "invalid_client", 401)
    # A key client cannot present a secret, nor both methods at once.
    key = new_ec_key()
    registered = await _key_client(app, world, key, "keyed-partner")
    response = await client.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=basic(registered.client_id, "x")
    )
    assert_oauth_error(response, "invalid_client", 401)
    both = await client.post(
        TOKEN_URL,
        data=_assertion_form(client_assertion(key, registered.client_id, TOKEN_ENDPOINT)),
        headers=basic(registered.client_id, "x"),
    )
    assert_oauth_error(both, "invalid_request")
