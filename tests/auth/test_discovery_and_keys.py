"""Discovery, the published JWKS, and signing-key rotation (old tokens keep verifying until retired)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from app.domain.identity.keys import retire_signing_keys, rotate_signing_key
from app.domain.identity.models import SigningKey
from app.security.scopes import Scope
from tests.factories import World


async def test_discovery_document(client: httpx.AsyncClient) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        response = await client.get(path)
        assert response.status_code == 200
        doc = response.json()
        assert doc["issuer"] == "http://test"
        assert doc["authorization_endpoint"] == "http://test/oauth/authorize"
        assert doc["token_endpoint"] == "http://test/oauth/token"
        assert doc["jwks_uri"] == "http://test/.well-known/jwks.json"
        assert set(doc["grant_types_supported"]) == {
            "authorization_code",
            "client_credentials",
            "refresh_token",
        }
        assert doc["response_types_supported"] == ["code"]
        assert doc["code_challenge_methods_supported"] == ["S256"]
        assert set(doc["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic",
            "private_key_jwt",
            "none",
        }
        assert "ES256" in doc["token_endpoint_auth_signing_alg_values_supported"]
        assert "none" not in doc["token_endpoint_auth_signing_alg_values_supported"]
        assert set(doc["scopes_supported"]) == {str(s) for s in Scope}


async def test_jwks_has_public_keys_only(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert {"kty", "kid", "alg", "use"} <= set(key)
        assert key["use"] == "sig" and key["alg"] in {"ES256", "RS256"}
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)  # no private parts
    # The key that signs today's tokens is published.
    assert _kid(await world.token("admin")) in {k["kid"] for k in keys}


def _kid(token: str) -> str:
    head = token.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return str(header["kid"])


async def _jwks_kids(client: httpx.AsyncClient) -> set[str]:
    return {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_rotation_keeps_old_tokens_valid_until_retired(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    verifier = app.state.token_verifier
    old_kid = str((await verifier.keys()).signing_key.kid)
    old_token = await world.token("admin")

    new_kid = await rotate_signing_key(app.state.db, app.state.settings)
    assert new_kid != old_kid
    assert {old_kid, new_kid} <= await _jwks_kids(client)
    assert (await client.get("/api/v1/areas", headers=_bearer(old_token))).status_code == 200

    await verifier.reload()  # what every process does within KEYRING_MAX_AGE
    new_token = await world.token("admin")
    assert _kid(new_token) == new_kid and _kid(old_token) == old_kid
    assert (await client.get("/api/v1/areas", headers=_bearer(new_token))).status_code == 200
    assert (await client.get("/api/v1/areas", headers=_bearer(old_token))).status_code == 200

    # Too early to retire: tokens of the old key may still be out there.
    assert await retire_signing_keys(app.state.db, app.state.settings) == 0
    # Once the new key has signed for longer than a token lives, the old one goes: let time pass.
    settings = app.state.settings
    async with app.state.db.transaction() as session:
        await session.execute(
            update(SigningKey).values(
                created_at=SigningKey.created_at - timedelta(seconds=settings.access_token_ttl_seconds + 120)
            )
        )
    assert await retire_signing_keys(app.state.db, settings) >= 1
    assert await _jwks_kids(client) == {new_kid}
    await verifier.reload()
    assert (await client.get("/api/v1/areas", headers=_bearer(old_token))).status_code == 401
    assert (await client.get("/api/v1/areas", headers=_bearer(new_token))).status_code == 200
