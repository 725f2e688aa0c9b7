"""A replayed authorization code (RFC 6749 §4.1.2, RFC 9700 §4.5): refused, and the sign-in its first
use started ends: the refresh tokens issued then stop working. All over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.auth.helpers import TOKEN_URL, Pkce, assert_oauth_error, exchange, sign_in
from tests.factories import World


async def refresh(client: httpx.AsyncClient, world: World, token: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": world.clients["mobile_app"].client_id,
    }
    return await client.post(TOKEN_URL, data=form)


async def stored_codes(app: FastAPI, code: str) -> list[dict[str, Any]]:
    async with app.state.db.transaction() as session:
        rows = await session.execute(
            text("SELECT * FROM authorization_codes WHERE code_hash = :h"),
            {"h": hashlib.sha256(code.encode()).hexdigest()},
        )
        return [dict(row) for row in rows.mappings()]


async def test_a_replayed_code_ends_the_sign_in_it_started(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    pkce = Pkce.new()
    code = (await sign_in(client, world, "generalist_a", pkce))["code"]
    first = await exchange(client, world, code, pkce.verifier)
    assert first.status_code == 200, first.text
    refresh_token = first.json()["refresh_token"]

    with caplog.at_level(logging.DEBUG):
        assert_oauth_error(await exchange(client, world, code, pkce.verifier), "invalid_grant")
    # The tokens of the first use were issued to whoever used the code first: they end too.
    assert_oauth_error(await refresh(client, world, refresh_token), "invalid_grant")
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "authorization code replayed" in logged
    assert code not in logged and refresh_token not in logged


async def test_a_replay_after_a_refresh_ends_the_newest_token(
    client: httpx.AsyncClient, world: World
) -> None:
    pkce = Pkce.new()
    code = (await sign_in(client, world, "team_lead_a", pkce))["code"]
    first = (await exchange(client, world, code, pkce.verifier)).json()["refresh_token"]
    rotated = await refresh(client, world, first)
    assert rotated.status_code == 200, rotated.text

    # Replayed by another (an attacker holding the code but not the verifier): refused all the same.
    assert_oauth_error(await exchange(client, world, code, Pkce.new().verifier), "invalid_grant")
    assert_oauth_error(await refresh(client, world, rotated.json()["refresh_token"]), "invalid_grant")


async def test_two_redemptions_at_once_end_the_sign_in(client: httpx.AsyncClient, world: World) -> None:
    pkce = Pkce.new()
    code = (await sign_in(client, world, "generalist_b", pkce))["code"]
    answers = await asyncio.gather(
        exchange(client, world, code, pkce.verifier), exchange(client, world, code, pkce.verifier)
    )
    assert sorted(a.status_code for a in answers) == [200, 400]
    [winner] = [a for a in answers if a.status_code == 200]
    assert_oauth_error(await refresh(client, world, winner.json()["refresh_token"]), "invalid_grant")


async def test_a_used_code_is_kept_while_its_sign_in_lives(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    pkce = Pkce.new()
    code = (await sign_in(client, world, "generalist_a", pkce))["code"]
    refresh_token = (await exchange(client, world, code, pkce.verifier)).json()["refresh_token"]
    async with app.state.db.transaction() as session:
        await session.execute(
            text(
                "UPDATE authorization_codes SET expires_at = now() - interval '1 hour' WHERE code_hash = :h"
            ),
            {"h": hashlib.sha256(code.encode()).hexdigest()},
        )
    # A new sign-in clears spent codes; a used one whose refresh tokens still work is not spent.
    await sign_in(client, world, "generalist_b", Pkce.new())
    [row] = await stored_codes(app, code)
    assert row["used_at"] is not None and row["refresh_family_id"] is not None

    assert_oauth_error(await exchange(client, world, code, pkce.verifier), "invalid_grant")
    assert_oauth_error(await refresh(client, world, refresh_token), "invalid_grant")
    # Its sign-in has ended: now the code is of no further use and goes with the next clean-up.
    await sign_in(client, world, "generalist_b", Pkce.new())
    assert await stored_codes(app, code) == []
