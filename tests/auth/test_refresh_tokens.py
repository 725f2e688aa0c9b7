"""Refresh tokens (RFC 6749 §6, RFC 9700): issued at sign-in to the app, rotated on every use, replay
ends the family, bounded lifetime, current role and scopes, revocation (RFC 7009). All over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import delete, text, update
from sqlmodel import col

from app.domain.base import utcnow
from app.domain.identity.models import ClientAuthMethod, OAuthClient, RefreshToken, User
from app.domain.organisation.models import WorkerTeam
from app.settings import Settings
from tests.auth.helpers import (
    REDIRECT_URI,
    REVOKE_URL,
    TOKEN_URL,
    assert_oauth_error,
    basic,
    family_rows,
    own_app,
    refresh,
    revoke,
    signed_in,
    unverified_claims,
)
from tests.factories import World


async def change(app: FastAPI, statement: Any) -> None:
    async with app.state.db.transaction() as session:
        await session.execute(statement)


def _by_hash(token: str) -> Any:
    return col(RefreshToken.token_hash) == hashlib.sha256(token.encode()).hexdigest()


async def test_sign_in_gives_a_refresh_token_that_rotates(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    first = await signed_in(client, world, "generalist_a", scope="cases:read referrals:read")
    assert len(first["refresh_token"]) >= 43  # 256 random bits, url-safe

    response = await refresh(client, world, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["scope"] == "cases:read referrals:read" and second["token_type"] == "Bearer"
    assert second["refresh_token"] not in (first["refresh_token"], None)
    claims = unverified_claims(second["access_token"])
    assert claims["sub"] == str(world.people["generalist_a"].user.id)
    assert claims["teams"] == [str(world.teams["a"].id)] and claims["role"] == "generalist"
    households = await client.get(
        "/api/v1/households", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert households.status_code == 200, households.text

    # The presented token is used up; its successor carries on.
    rows = await family_rows(app, second["refresh_token"])
    assert len(rows) == 2 and rows[0]["used_at"] is not None and rows[1]["parent_id"] == rows[0]["id"]
    assert rows[0]["expires_at"] == rows[1]["expires_at"]  # the family's end does not move
    third = await refresh(client, world, second["refresh_token"])
    assert third.status_code == 200, third.text


async def test_reuse_revokes_the_whole_family(
    client: httpx.AsyncClient, world: World, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    old = (await signed_in(client, world, "team_lead_a"))["refresh_token"]
    newest = (await refresh(client, world, old)).json()["refresh_token"]

    with caplog.at_level(logging.DEBUG):
        assert_oauth_error(await refresh(client, world, old), "invalid_grant")
    # The thief's copy or the app's: either way the newest token of the family stops working too.
    assert_oauth_error(await refresh(client, world, newest), "invalid_grant")
    rows = await family_rows(app, newest)
    assert len(rows) == 2 and all(row["revoked_at"] is not None for row in rows)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "family revoked" in logged
    assert old not in logged and hashlib.sha256(old.encode()).hexdigest() not in logged


async def test_two_refreshes_at_once_end_the_family(client: httpx.AsyncClient, world: World) -> None:
    token = (await signed_in(client, world, "generalist_b"))["refresh_token"]
    answers = await asyncio.gather(refresh(client, world, token), refresh(client, world, token))
    assert sorted(a.status_code for a in answers) == [200, 400]
    [winner] = [a for a in answers if a.status_code == 200]
    assert_oauth_error(await refresh(client, world, winner.json()["refresh_token"]), "invalid_grant")


async def test_another_client_cannot_use_it(client: httpx.AsyncClient, world: World, app: FastAPI) -> None:
    token = (await signed_in(client, world, "generalist_a"))["refresh_token"]
    other = OAuthClient(
        client_id=f"other-app-{uuid.uuid4().hex[:8]}",
        name="Other app",
        auth_method=ClientAuthMethod.none,
        redirect_uris=[REDIRECT_URI],
    )
    async with app.state.db.transaction() as session:
        session.add(other)
    assert_oauth_error(await refresh(client, world, token, client_id=other.client_id), "invalid_grant")
    assert_oauth_error(await refresh(client, world, token, client_id="no-such-client"), "invalid_client", 401)
    partner = await client.post(
        TOKEN_URL,
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers=basic(world.clients["partner_a"].client_id, world.secrets["partner_a"]),
    )
    assert_oauth_error(partner, "unauthorized_client")
    # None of that spent the token: its own client still refreshes with it.
    assert (await refresh(client, world, token)).status_code == 200


async def test_an_ended_family_is_refused(client: httpx.AsyncClient, world: World, app: FastAPI) -> None:
    absolute = (await signed_in(client, world, "generalist_a"))["refresh_token"]
    await change(app, update(RefreshToken).where(_by_hash(absolute)).values(expires_at=utcnow()))
    assert_oauth_error(await refresh(client, world, absolute), "invalid_grant")

    idle = (await signed_in(client, world, "generalist_a"))["refresh_token"]
    await change(
        app,
        update(RefreshToken).where(_by_hash(idle)).values(idle_expires_at=utcnow() - timedelta(seconds=1)),
    )
    assert_oauth_error(await refresh(client, world, idle), "invalid_grant")
    assert_oauth_error(await refresh(client, world, "not-a-token"), "invalid_grant")
    missing = {"grant_type": "refresh_token", "client_id": world.clients["mobile_app"].client_id}
    assert_oauth_error(await client.post(TOKEN_URL, data=missing), "invalid_request")


async def test_the_family_lifetime_follows_the_settings(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    settings: Settings = app.state.settings
    token = (await signed_in(client, world, "resident"))["refresh_token"]
    [row] = await family_rows(app, token)
    lifetime = row["expires_at"] - row["issued_at"]
    assert abs(lifetime - timedelta(seconds=settings.refresh_token_ttl_seconds)) < timedelta(seconds=5)
    idle = row["idle_expires_at"] - row["issued_at"]
    assert abs(idle - timedelta(seconds=settings.refresh_token_idle_seconds)) < timedelta(seconds=5)
    for bad in ({"refresh_token_ttl_seconds": 60}, {"refresh_token_ttl_seconds": 30 * 24 * 3600}):
        with pytest.raises(ValidationError):
            Settings.model_validate(bad)


async def test_scope_may_narrow_but_never_widen(client: httpx.AsyncClient, world: World) -> None:
    token = (await signed_in(client, world, "generalist_a", scope="cases:read referrals:read"))[
        "refresh_token"
    ]
    # cases:write is the user's to have, but was not granted at sign-in.
    assert_oauth_error(await refresh(client, world, token, scope="cases:read cases:write"), "invalid_scope")
    assert_oauth_error(await refresh(client, world, token, scope="admin"), "invalid_scope")
    narrow = await refresh(client, world, token, scope="cases:read")  # the failures did not spend it
    assert narrow.status_code == 200, narrow.text
    assert narrow.json()["scope"] == "cases:read"
    assert unverified_claims(narrow.json()["access_token"])["scope"] == "cases:read"
    # RFC 6749 §6: the next refresh token keeps the family's scope, so the app may ask for all of it again.
    again = await refresh(client, world, narrow.json()["refresh_token"])
    assert again.json()["scope"] == "cases:read referrals:read"


async def test_a_deactivated_user_is_signed_out(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    # Through the admin route: every family of the user is revoked at once.
    person = world.people["generalist_a2"]
    tokens = [(await signed_in(client, world, "generalist_a2"))["refresh_token"] for _ in range(2)]
    response = await client.patch(
        f"/api/v1/users/{person.user.id}", json={"active": False}, headers=await world.headers("admin")
    )
    assert response.status_code == 200, response.text
    for token in tokens:
        assert all(row["revoked_at"] is not None for row in await family_rows(app, token))
        assert_oauth_error(await refresh(client, world, token), "invalid_grant")

    # Deactivated some other way (straight in the database): the refresh itself checks.
    token = (await signed_in(client, world, "network_coordinator"))["refresh_token"]
    await change(
        app,
        update(User).where(col(User.id) == world.people["network_coordinator"].user.id).values(active=False),
    )
    assert_oauth_error(await refresh(client, world, token), "invalid_grant")
    assert all(row["revoked_at"] is not None for row in await family_rows(app, token))


async def test_a_new_password_ends_the_persons_sign_ins(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    person = world.people["generalist_b"]
    token = (await signed_in(client, world, "generalist_b"))["refresh_token"]
    other = (await signed_in(client, world, "team_lead_b"))["refresh_token"]
    response = await client.patch(
        f"/api/v1/users/{person.user.id}",
        json={"password": "a-new-long-passphrase-for-b"},
        headers=await world.headers("admin"),
    )
    assert response.status_code == 200, response.text
    assert all(row["revoked_at"] is not None for row in await family_rows(app, token))
    assert_oauth_error(await refresh(client, world, token), "invalid_grant")
    assert (await refresh(client, world, other)).status_code == 200  # nobody else is signed out


async def test_the_current_role_teams_and_bsn_read_count(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    lead = world.people["team_lead_b"]
    token = (await signed_in(client, world, "team_lead_b"))["refresh_token"]
    await change(app, update(User).where(col(User.id) == lead.user.id).values(role="generalist"))
    assert_oauth_error(await refresh(client, world, token), "invalid_grant")  # a new role: sign in again

    # Left the team: the next access token says so.
    person = world.people["generalist_a"]
    assert person.worker is not None
    await change(app, update(User).where(col(User.id) == person.user.id).values(bsn_read=True))
    first = await signed_in(client, world, "generalist_a")
    assert "bsn:read" in first["scope"].split()
    await change(app, delete(WorkerTeam).where(col(WorkerTeam.worker_id) == person.worker.id))
    await change(app, update(User).where(col(User.id) == person.user.id).values(bsn_read=False))
    response = await refresh(client, world, first["refresh_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert "bsn:read" not in body["scope"].split() and "cases:read" in body["scope"].split()
    assert unverified_claims(body["access_token"])["teams"] == []
    # Withdrawn for good: the next refresh does not bring it back.
    later = await refresh(client, world, body["refresh_token"], scope="bsn:read")
    assert_oauth_error(later, "invalid_scope")


async def test_revocation_ends_the_family_and_is_idempotent(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    first = (await signed_in(client, world, "resident"))["refresh_token"]
    newest = (await refresh(client, world, first)).json()["refresh_token"]
    other_session = (await signed_in(client, world, "resident"))["refresh_token"]

    response = await revoke(client, world, newest, token_type_hint="refresh_token")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert_oauth_error(await refresh(client, world, newest), "invalid_grant")
    assert all(row["revoked_at"] is not None for row in await family_rows(app, first))
    # Again, an unknown token, an access token: all 200, and nothing else changes.
    assert (await revoke(client, world, newest)).status_code == 200
    assert (await revoke(client, world, "unknown-token")).status_code == 200
    assert (await revoke(client, world, "x", token_type_hint="access_token")).status_code == 200
    assert (await refresh(client, world, other_session)).status_code == 200


async def test_revocation_needs_the_token_and_its_own_client(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    token = (await signed_in(client, world, "admin"))["refresh_token"]
    assert_oauth_error(await revoke(client, world, ""), "invalid_request")
    anonymous = await client.post(REVOKE_URL, data={"token": token})
    assert_oauth_error(anonymous, "invalid_client", 401)
    wrong_secret = await client.post(
        REVOKE_URL, data={"token": token}, headers=basic(world.clients["partner_a"].client_id, "wrong")
    )
    assert_oauth_error(wrong_secret, "invalid_client", 401)
    # Another client may not end this session (and learns nothing: 200 as for any unknown token).
    partner = await client.post(
        REVOKE_URL,
        data={"token": token},
        headers=basic(world.clients["partner_b"].client_id, world.secrets["partner_b"]),
    )
    assert partner.status_code == 200
    assert all(row["revoked_at"] is None for row in await family_rows(app, token))
    assert (await refresh(client, world, token)).status_code == 200


async def test_client_credentials_never_get_a_refresh_token(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    for name in ("partner_a", "analyst"):
        response = await client.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            headers=basic(world.clients[name].client_id, world.secrets[name]),
        )
        assert response.status_code == 200, response.text
        assert "refresh_token" not in response.json()
    async with app.state.db.transaction() as session:
        partner_ids = [world.clients[n].client_id for n in ("partner_a", "analyst")]
        count = await session.scalar(
            text("SELECT count(*) FROM refresh_tokens WHERE client_id = ANY(:ids)"), {"ids": partner_ids}
        )
    assert count == 0


async def test_only_a_hash_is_stored(client: httpx.AsyncClient, world: World, app: FastAPI) -> None:
    token = (await signed_in(client, world, "generalist_b"))["refresh_token"]
    [row] = await family_rows(app, token)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in row.values())
    assert row["client_id"] == world.clients["mobile_app"].client_id
    assert row["user_id"] == world.people["generalist_b"].user.id and row["role"] == "generalist"
    assert row["used_at"] is None and row["revoked_at"] is None and row["parent_id"] is None


async def test_discovery_advertises_refresh_and_revocation(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/.well-known/openid-configuration")).json()
    assert "refresh_token" in doc["grant_types_supported"]
    assert doc["revocation_endpoint"] == "http://test/oauth/revoke"
    assert set(doc["revocation_endpoint_auth_methods_supported"]) == set(
        doc["token_endpoint_auth_methods_supported"]
    )


async def test_revocation_is_rate_limited_with_the_token_endpoint(settings: Settings, migrated: str) -> None:
    async with own_app(settings, migrated, rate_limit_token_per_minute=3) as (application, http):
        application.state.rate_limit_clock = lambda: 0.0  # no refill mid-test
        world = await World.create(application)
        client_id = world.clients["mobile_app"].client_id
        for _ in range(3):
            response = await http.post(REVOKE_URL, data={"token": "x", "client_id": client_id})
            assert response.status_code == 200
        limited = await http.post(REVOKE_URL, data={"token": "x", "client_id": client_id})
        assert limited.status_code == 429 and limited.headers["content-type"] == "application/problem+json"
        # Unknown clients count per IP address, as at the token endpoint.
        for _ in range(3):
            await http.post(REVOKE_URL, data={"token": "x", "client_id": "nobody"})
        assert (await http.post(REVOKE_URL, data={"token": "x", "client_id": "nobody"})).status_code == 429
