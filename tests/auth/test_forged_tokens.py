"""The resource server refuses every forged or misdirected token with 401 problem+json (RFC 6750)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt

from app.domain.identity.keys import KeyRing
from tests.auth.helpers import assert_unauthenticated, new_ec_key, raw_jwt, unverified_claims
from tests.factories import World

ROUTE = "/api/v1/areas"  # needs scope admin


async def _keyring(app: FastAPI) -> KeyRing:
    ring: KeyRing = await app.state.token_verifier.keys()
    return ring


async def _admin_claims(world: World) -> dict[str, Any]:
    return unverified_claims(await world.token("admin"))


def _sign(ring: KeyRing, claims: dict[str, Any], **header: Any) -> str:
    key = ring.signing_key
    full_header = {"alg": key.alg, "typ": "at+jwt", "kid": key.kid, **header}
    return jwt.encode(full_header, claims, key)


async def _call(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(ROUTE, headers={"Authorization": f"Bearer {token}"})


async def test_a_genuine_token_is_accepted(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(ROUTE, headers=await world.headers("admin"))
    assert response.status_code == 200


async def test_no_token_and_a_wrong_scheme(client: httpx.AsyncClient, world: World) -> None:
    missing = await client.get(ROUTE)
    assert_unauthenticated(missing)
    assert "error=" not in missing.headers["www-authenticate"]  # RFC 6750 §3.1: no error when no token
    token = await world.token("admin")
    assert_unauthenticated(await client.get(ROUTE, headers={"Authorization": f"Basic {token}"}))


async def test_alg_none_is_refused(client: httpx.AsyncClient, world: World, app: FastAPI) -> None:
    ring = await _keyring(app)
    token = raw_jwt({"alg": "none", "typ": "at+jwt", "kid": ring.signing_key.kid}, await _admin_claims(world))
    response = await _call(client, token)
    assert_unauthenticated(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_hs256_keyed_with_the_public_key_is_refused(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    ring = await _keyring(app)
    public_pem = ring.signing_key.as_pem(private=False)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": ring.signing_key.kid}
    unsigned = raw_jwt(header, await _admin_claims(world)).rsplit(".", 1)[0]
    mac = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    token = raw_jwt(header, await _admin_claims(world), mac)
    assert_unauthenticated(await _call(client, token))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"iss": "https://evil.example"}, "wrong issuer"),
        ({"aud": "another-api"}, "wrong audience"),
        ({"exp": -120}, "expired beyond the leeway"),
        ({"nbf": 600}, "not valid yet"),
        ({"iat": 600}, "issued in the future"),
        ({"exp": None}, "no expiry"),
        ({"jti": None}, "no jti"),
        ({"role": "superuser"}, "unknown role"),
    ],
)
async def test_properly_signed_but_wrong_claims(
    client: httpx.AsyncClient, world: World, app: FastAPI, change: dict[str, Any], why: str
) -> None:
    claims = await _admin_claims(world)
    now = int(time.time())
    for name, value in change.items():
        if value is None:
            claims.pop(name)
        elif name in {"exp", "nbf", "iat"}:
            claims[name] = now + value
        else:
            claims[name] = value
    assert_unauthenticated(await _call(client, _sign(await _keyring(app), claims)))


async def test_expired_within_the_leeway_is_accepted(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    leeway = app.state.settings.token_leeway_seconds
    assert leeway > 5
    claims = await _admin_claims(world) | {"exp": int(time.time()) - (leeway - 5)}
    response = await _call(client, _sign(await _keyring(app), claims))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/jwt", None])
async def test_wrong_or_missing_typ_is_refused(
    client: httpx.AsyncClient, world: World, app: FastAPI, typ: str | None
) -> None:
    ring = await _keyring(app)
    header: dict[str, Any] = {"alg": ring.signing_key.alg, "kid": ring.signing_key.kid}
    if typ is not None:
        header["typ"] = typ
    token = jwt.encode(header, await _admin_claims(world), ring.signing_key)
    response = await _call(client, token)
    assert_unauthenticated(response)
    assert "at+jwt" in response.json()["detail"]


async def test_unknown_kid_is_refused(client: httpx.AsyncClient, world: World) -> None:
    stranger = new_ec_key()
    token = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": stranger.kid}, await _admin_claims(world), stranger
    )
    assert_unauthenticated(await _call(client, token))


async def test_own_kid_but_another_key_is_refused(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    ring = await _keyring(app)
    impostor = new_ec_key(kid=str(ring.signing_key.kid))
    header = {"alg": "ES256", "typ": "at+jwt", "kid": ring.signing_key.kid}
    assert_unauthenticated(await _call(client, jwt.encode(header, await _admin_claims(world), impostor)))


async def test_tampered_payload_or_signature_is_refused(client: httpx.AsyncClient, world: World) -> None:
    token = await world.token("generalist_a")
    head, payload, signature = token.split(".")
    # Promote the generalist to admin without re-signing.
    claims = unverified_claims(token) | {"role": "admin", "scope": "admin"}
    forged_payload = raw_jwt({}, claims).split(".")[1]
    assert_unauthenticated(await _call(client, f"{head}.{forged_payload}.{signature}"))
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    assert_unauthenticated(await _call(client, f"{head}.{payload}.{flipped}"))


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "a.b.c", "....", "eyJhbGciOiJFUzI1NiJ9.e30", "é.é.é", "x" * 5000, "a.b.c.d.e"],
)
async def test_garbage_is_refused(client: httpx.AsyncClient, garbage: str) -> None:
    response = await client.get(ROUTE, headers=[(b"Authorization", f"Bearer {garbage}".encode())])
    assert_unauthenticated(response)


async def test_an_unknown_kid_reloads_keys_at_most_every_30_seconds(app: FastAPI) -> None:
    """Forged kids cannot make every request hit the database (the verifier's own clock is driven)."""
    from app.domain.identity.tokens import TokenVerifier
    from app.security.errors import AuthenticationFailed

    now = [1000.0]
    loads = []
    real = app.state.token_verifier

    async def load() -> KeyRing:
        loads.append(now[0])
        ring: KeyRing = await real._load_keyring()
        return ring

    verifier = TokenVerifier(app.state.settings, load, clock=lambda: now[0])
    stranger = new_ec_key()
    forged = jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": stranger.kid}, {"sub": "x"}, stranger)

    async def attempt() -> None:
        with pytest.raises(AuthenticationFailed):
            await verifier.verify(forged)

    await _run(attempt, 3)
    assert len(loads) == 2  # the first load, then one reload for the unknown kid
    now[0] += 31
    await _run(attempt, 3)
    assert len(loads) == 3


async def _run(step: Callable[[], Awaitable[None]], times: int) -> None:
    for _ in range(times):
        await step()
