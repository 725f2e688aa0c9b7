"""Helpers for the OAuth tests: PKCE pairs, the login flow over HTTP, and hand-made JWTs."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import text

from app.main import create_app
from app.settings import Settings
from tests.factories import PASSWORD, World

REDIRECT_URI = "http://127.0.0.1/callback"
TOKEN_URL = "/oauth/token"
REVOKE_URL = "/oauth/revoke"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        return cls(verifier, b64url(hashlib.sha256(verifier.encode()).digest()))


def authorize_params(world: World, pkce: Pkce, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": world.clients["mobile_app"].client_id,
        "redirect_uri": REDIRECT_URI,
        "state": secrets.token_urlsafe(8),
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def submit_login(
    client: httpx.AsyncClient, params: dict[str, str], username: str, password: str = PASSWORD
) -> httpx.Response:
    """GET the login page, then POST its form with these credentials (the browser's two steps)."""
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    form = hidden_fields(page.text) | {"username": username, "password": password}
    return await client.post("/oauth/authorize", data=form)


async def sign_in(
    client: httpx.AsyncClient, world: World, person: str, pkce: Pkce, **overrides: str | None
) -> dict[str, str]:
    """The login flow up to the redirect; returns the redirect's query (code, state, iss)."""
    params = authorize_params(world, pkce, **overrides)
    response = await submit_login(client, params, world.people[person].username)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(params["redirect_uri"] + "?")
    query = query_of(location)
    assert query["state"] == params["state"]
    return query


async def exchange(
    client: httpx.AsyncClient, world: World, code: str, verifier: str | None, **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": world.clients["mobile_app"].client_id,
        **extra,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return await client.post(TOKEN_URL, data=form)


# -- refresh tokens ---------------------------------------------------------------------------------


async def signed_in(client: httpx.AsyncClient, world: World, person: str, **overrides: str) -> dict[str, Any]:
    """The token answer of a real sign-in through the app (login page, code, PKCE)."""
    pkce = Pkce.new()
    query = await sign_in(client, world, person, pkce, **overrides)
    response = await exchange(client, world, query["code"], pkce.verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(
    client: httpx.AsyncClient, world: World, token: str, *, client_id: str | None = None, **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": client_id or world.clients["mobile_app"].client_id,
        **extra,
    }
    return await client.post(TOKEN_URL, data=form)


async def revoke(client: httpx.AsyncClient, world: World, token: str, **extra: str) -> httpx.Response:
    form = {"token": token, "client_id": world.clients["mobile_app"].client_id, **extra}
    return await client.post(REVOKE_URL, data=form)


async def family_rows(app: FastAPI, token: str) -> list[dict[str, Any]]:
    """The raw rows of the family the token belongs to, read with plain SQL."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    async with app.state.db.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT * FROM refresh_tokens WHERE family_id ="
                " (SELECT family_id FROM refresh_tokens WHERE token_hash = :h) ORDER BY issued_at"
            ),
            {"h": digest},
        )
        return [dict(row) for row in rows.mappings()]


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def assert_oauth_error(response: httpx.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:wijkwerk:problem:rate_limited"
    assert int(response.headers["retry-after"]) >= 1


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer realm="wijkwerk"')
    assert response.json()["status"] == 401


def unverified_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def raw_jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand (for algorithms a JOSE library rightly refuses to produce)."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{b64url(signature)}"


def new_ec_key(kid: str | None = None) -> ECKey:
    parameters: Any = {"kid": kid or uuid.uuid4().hex, "alg": "ES256", "use": "sig"}
    return ECKey.generate_key("P-256", parameters=parameters, private=True)


def client_assertion(key: ECKey, client_id: str, audience: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
        **overrides,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


@asynccontextmanager
async def own_app(settings: Settings, database_url: str, **changes: Any) -> Any:
    """An app of its own (own limiters, own verifier) on the run's database, with changed settings."""
    application: FastAPI = create_app(settings.model_copy(update=changes), database_url=database_url)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield application, http
