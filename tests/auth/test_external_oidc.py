"""Trusting an external OpenID Connect issuer: the test owns the key pair and serves discovery + JWKS
from a real HTTP server on 127.0.0.1; the API maps its claims to roles and linked local users."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import update
from sqlmodel import col

from app.domain.identity.models import User
from app.domain.identity.tokens import build_token_verifier, external_role
from app.security.errors import AuthenticationFailed
from app.security.principal import Principal
from app.settings import Settings
from tests.auth.helpers import assert_unauthenticated, new_ec_key, own_app, raw_jwt, unverified_claims
from tests.factories import World

ROLE_MAP = {
    "wijkteam-beheer": "admin",
    "wijkteam-generalist": "generalist",
    "wijkteam-partner": "partner",  # must never work: machine roles come from our own server
}


@dataclass
class IdentityProvider:
    """A tiny IdP: discovery and JWKS over real HTTP, keys held by the test."""

    keys: list[ECKey] = field(default_factory=lambda: [new_ec_key()])
    hits: dict[str, int] = field(default_factory=dict)
    up: bool = True
    issuer: str = ""

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    def token(
        self, subject: str, key: ECKey | None = None, header: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        key = key or self.keys[-1]
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": "wijkwerk-api",
            "sub": subject,
            "azp": "gemeente-portal",
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "roles": ["wijkteam-beheer"],
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **(header or {})}, body, key)


def _serve(idp: IdentityProvider) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            idp.hits[self.path] = idp.hits.get(self.path, 0) + 1
            documents = {
                "/.well-known/openid-configuration": {"issuer": idp.issuer, "jwks_uri": idp.issuer + "/keys"},
                "/keys": idp.jwks(),
            }
            if not idp.up or self.path not in documents:
                self.send_response(503 if not idp.up else 404)
                self.end_headers()
                return
            payload = json.dumps(documents[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    server, provider.issuer = _serve(provider)
    yield provider
    server.shutdown()
    server.server_close()


@dataclass
class Setup:
    app: FastAPI
    http: httpx.AsyncClient
    world: World

    async def link(self, person: str, subject: str) -> User:
        user = self.world.people[person].user
        async with self.app.state.db.transaction() as session:
            await session.execute(
                update(User).where(col(User.id) == user.id).values(external_subject=subject)
            )
        return user


async def _external_app(settings: Settings, migrated: str, **changes: Any) -> Any:
    return own_app(settings, migrated, oidc_role_map=ROLE_MAP, **changes)


@pytest.fixture(scope="module")
async def oidc(idp: IdentityProvider, settings: Settings, migrated: str) -> AsyncIterator[Setup]:
    async with await _external_app(settings, migrated, oidc_issuer=idp.issuer) as (application, http):
        application.state.token_verifier = build_token_verifier(
            application.state.settings, application.state.db
        )
        yield Setup(application, http, await World.create(application))


async def _get(setup: Setup, token: str) -> httpx.Response:
    return await setup.http.get("/api/v1/areas", headers={"Authorization": f"Bearer {token}"})


async def test_a_linked_person_with_a_mapped_role_gets_in(oidc: Setup, idp: IdentityProvider) -> None:
    subject = f"admin-{uuid.uuid4().hex}"
    admin = await oidc.link("admin", subject)
    response = await _get(oidc, idp.token(subject))
    assert response.status_code == 200, response.text
    principal: Principal = await oidc.app.state.token_verifier.verify(idp.token(subject))
    assert principal.subject == f"oidc:{subject}" and principal.role == "admin"
    assert principal.user_id == admin.id and principal.client_id == "gemeente-portal"
    assert principal.scopes == {"admin", "services:write"}
    assert idp.hits.get("/.well-known/openid-configuration", 0) >= 1  # keys found through discovery


async def test_a_generalist_gets_the_local_worker(oidc: Setup, idp: IdentityProvider) -> None:
    subject = f"gen-{uuid.uuid4().hex}"
    user = await oidc.link("generalist_a", subject)
    token = idp.token(subject, roles=["unrelated-group", "wijkteam-generalist"], scope="openid cases:read")
    principal: Principal = await oidc.app.state.token_verifier.verify(token)
    assert principal.role == "generalist" and principal.worker_id == user.worker_id
    assert principal.scopes == {"cases:read"}  # only the role's scopes the token names
    assert principal.is_machine is False
    assert (await _get(oidc, token)).status_code == 403  # a generalist has no admin scope


async def test_refusals(oidc: Setup, idp: IdentityProvider) -> None:
    subject = f"admin2-{uuid.uuid4().hex}"
    await oidc.link("network_coordinator", subject)
    stranger = new_ec_key()
    now = int(time.time())
    forged = {
        "unlinked subject": idp.token(f"nobody-{uuid.uuid4().hex}"),
        "no mapped role": idp.token(subject, roles=["medewerker"]),
        "no role claim": idp.token(subject, roles=None),
        "maps to a machine role": idp.token(subject, roles=["wijkteam-partner"]),
        "wrong audience": idp.token(subject, aud="another-api"),
        "ID token typ": idp.token(subject, header={"typ": "JWT"}),
        "expired": idp.token(subject, exp=now - 300, iat=now - 600),
        "unknown key": idp.token(subject, key=stranger),
        "known kid, other key": idp.token(subject, key=new_ec_key(kid=str(idp.keys[-1].kid))),
        "alg none": raw_jwt(
            {"alg": "none", "typ": "at+jwt", "kid": idp.keys[-1].kid}, unverified_claims(idp.token(subject))
        ),
    }
    for why, token in forged.items():
        response = await _get(oidc, token)
        assert response.status_code == 401, why
        assert_unauthenticated(response)


async def test_an_inactive_linked_user_is_refused(oidc: Setup, idp: IdentityProvider) -> None:
    subject = f"po-{uuid.uuid4().hex}"
    user = await oidc.link("privacy_officer", subject)
    async with oidc.app.state.db.transaction() as session:
        await session.execute(update(User).where(col(User.id) == user.id).values(active=False))
    assert_unauthenticated(await _get(oidc, idp.token(subject)))


async def test_the_idp_rotates_its_key(oidc: Setup, idp: IdentityProvider) -> None:
    subject = f"admin3-{uuid.uuid4().hex}"
    await oidc.link("team_lead_b", subject)
    # A verifier of its own, so no earlier test's unknown kid has used up the reload allowance.
    verifier = build_token_verifier(oidc.app.state.settings, oidc.app.state.db)
    assert (await verifier.verify(idp.token(subject))).role == "admin"
    before = idp.hits["/keys"]
    idp.keys.append(new_ec_key())  # published and signing at once
    # The new kid makes the verifier fetch the key set again.
    assert (await verifier.verify(idp.token(subject))).role == "admin"
    assert idp.hits["/keys"] == before + 1
    # Another unknown kid right after is refused without a fetch (at most one every 30 s).
    with pytest.raises(AuthenticationFailed):
        await verifier.verify(idp.token(subject, key=new_ec_key()))
    assert idp.hits["/keys"] == before + 1


async def test_a_configured_jwks_url_skips_discovery(
    idp: IdentityProvider, settings: Settings, migrated: str
) -> None:
    idp.hits.clear()
    changes = {"oidc_issuer": idp.issuer, "oidc_jwks_url": idp.issuer + "/keys", "oidc_audience": "gemeente"}
    async with await _external_app(settings, migrated, **changes) as (application, _http):
        verifier = build_token_verifier(application.state.settings, application.state.db)
        world = await World.create(application)
        subject = f"direct-{uuid.uuid4().hex}"
        async with application.state.db.transaction() as session:
            user_id = world.people["admin"].user.id
            await session.execute(
                update(User).where(col(User.id) == user_id).values(external_subject=subject)
            )
        principal = await verifier.verify(idp.token(subject, aud=["gemeente", "other"]))
        assert principal.role == "admin"
        with pytest.raises(AuthenticationFailed):
            await verifier.verify(idp.token(subject))  # audience wijkwerk-api is not this one's
    assert "/.well-known/openid-configuration" not in idp.hits and idp.hits["/keys"] == 1


async def test_an_unreachable_idp_is_503_not_500(
    idp: IdentityProvider, settings: Settings, migrated: str
) -> None:
    async with await _external_app(settings, migrated, oidc_issuer=idp.issuer) as (application, http):
        application.state.token_verifier = build_token_verifier(
            application.state.settings, application.state.db
        )
        idp.up = False
        try:
            response = await http.get(
                "/api/v1/areas", headers={"Authorization": f"Bearer {idp.token('someone')}"}
            )
        finally:
            idp.up = True
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1


def test_role_mapping_rules() -> None:
    role_map = {"a": "resident", "b": "team_lead", "p": "analyst"}
    assert external_role({"roles": ["x", "b", "a"]}, "roles", role_map) == "team_lead"  # claim order
    assert external_role({"roles": "a"}, "roles", role_map) == "resident"  # a single string
    nested = {"realm_access": {"roles": ["p", "a"]}}
    assert external_role(nested, "realm_access.roles", role_map) == "resident"  # machine role skipped
    claims: dict[str, Any]
    for claims in ({"roles": ["p"]}, {"roles": []}, {}, {"roles": [{"a": 1}]}, {"realm_access": "a"}):
        with pytest.raises(AuthenticationFailed):
            external_role(claims, "realm_access.roles" if "realm_access" in claims else "roles", role_map)
