"""Activation codes: the coordinator hands a member a one-time, expiring code (shown once, stored as
a keyed hash, never logged); the member sets a password with it on the activation page (rate-limited)
and signs in with the built-in login page."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import col

from app.api.oauth.activate import ACTIVATION_ATTEMPTS_PER_MINUTE
from app.domain.base import table_of
from app.domain.idempotency.models import IdempotencyKey
from app.domain.self_service.models import ActivationCode
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.settings import Settings
from tests.auth.helpers import (
    Pkce,
    authorize_params,
    exchange,
    hidden_fields,
    own_app,
    query_of,
    submit_login,
    unverified_claims,
)
from tests.factories import World
from tests.self_service.support import Home, log_rows

NEW_PASSWORD = "een lang en geheim wachtwoord"


@pytest.fixture
async def pages(settings: Settings, migrated: str) -> AsyncIterator[httpx.AsyncClient]:
    """The activation page on an app of its own: its own rate limiter, with time standing still."""
    async with own_app(settings, migrated) as (application, http):
        application.state.rate_limit_clock = lambda: 0.0
        yield http


def _codes_path(home: Home, name: str = "Anna") -> str:
    return f"/api/v1/households/{home.id}/members/{home.members[name]}/self-service/activation-codes"


async def _issue(
    home: Home, name: str = "Anna", actor: str = "generalist_a", **headers: str
) -> httpx.Response:
    return await home.post(_codes_path(home, name), None, actor, **headers)


async def _activate(
    http: httpx.AsyncClient, code: str, password: str = NEW_PASSWORD, repeat: str | None = None
) -> httpx.Response:
    form = await http.get("/oauth/activate")
    assert form.status_code == 200, form.text
    fields = hidden_fields(form.text) | {
        "code": code,
        "password": password,
        "password_repeat": repeat or password,
    }
    return await http.post("/oauth/activate", data=fields)


async def _sign_in(world: World, http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    pkce = Pkce.new()
    signed = await submit_login(http, authorize_params(world, pkce), username, password)
    assert signed.status_code == 302, signed.text
    return await exchange(http, world, query_of(signed.headers["location"])["code"], pkce.verifier)


async def test_the_member_activates_with_the_code_once_and_signs_in(
    world: World, home: Home, pages: httpx.AsyncClient
) -> None:
    issued = await _issue(home)
    assert issued.status_code == 201, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    body = issued.json()
    assert body["member_id"] == home.members["Anna"] and body["activate_at"] == "/oauth/activate"
    assert body["username"].startswith("bewoner-") and len(body["code"]) == 14
    status = (await home.get(f"/api/v1/households/{home.id}/self-service")).json()
    anna = next(m for m in status["members"] if m["given_name"] == "Anna")
    assert anna["account"] == {"username": body["username"], "activated": False, "active": True}
    assert anna["activation_code_expires_at"] is not None

    done = await _activate(pages, body["code"].lower())  # typed in lower case: still the code
    assert done.status_code == 200, done.text
    assert body["username"] in done.text and body["code"] not in done.text
    tokens = await _sign_in(world, pages, body["username"], NEW_PASSWORD)
    assert tokens.status_code == 200, tokens.text
    assert set(tokens.json()["scope"].split()) == {"self:read", "self:write"}
    claims = unverified_claims(tokens.json()["access_token"])
    assert (claims["role"], claims["member_id"], claims["household_id"]) == (
        "household_member", home.members["Anna"], home.id,
    )  # fmt: skip
    assert home.bsn not in str(claims) and "bsn" not in claims  # never in a token of ours
    me = await pages.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["member"]["id"] == home.members["Anna"]

    used = await _activate(pages, body["code"], "nog een ander wachtwoord")
    assert used.status_code == 400 and "onbekend, al gebruikt of verlopen" in used.text
    assert (await _sign_in(world, pages, body["username"], NEW_PASSWORD)).status_code == 200


async def test_a_code_expires(world: World, home: Home, pages: httpx.AsyncClient) -> None:
    code = (await _issue(home)).json()["code"]
    async with world.app.state.db.transaction() as session:
        await session.execute(
            sa.update(ActivationCode)
            .where(col(ActivationCode.expires_at) > sa.func.now(), col(ActivationCode.used_at).is_(None))
            .where(col(ActivationCode.created_at) > sa.func.now() - sa.text("interval '1 minute'"))
            .values(
                created_at=sa.func.now() - sa.text("interval '4 days'"),
                expires_at=sa.func.now() - sa.text("interval '1 day'"),
            )
        )
    expired = await _activate(pages, code)
    assert expired.status_code == 400 and "verlopen" in expired.text


async def test_a_new_code_replaces_the_unused_one(home: Home, pages: httpx.AsyncClient) -> None:
    first = (await _issue(home)).json()
    second = (await _issue(home, actor="team_lead_a")).json()
    assert first["username"] == second["username"] and first["code"] != second["code"]
    assert (await _activate(pages, first["code"])).status_code == 400
    assert (await _activate(pages, second["code"])).status_code == 200


async def test_a_weak_password_or_a_typo_leaves_the_code_usable(home: Home, pages: httpx.AsyncClient) -> None:
    code = (await _issue(home)).json()["code"]
    short = await _activate(pages, code, "te kort")
    assert short.status_code == 400 and "12" in short.text
    different = await _activate(pages, code, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert different.status_code == 400 and "niet gelijk" in different.text
    assert (await _activate(pages, code)).status_code == 200


async def test_no_code_for_a_member_whose_self_service_is_off_and_only_the_coordinator_or_a_lead(
    world: World, home: Home, pages: httpx.AsyncClient
) -> None:
    child = await _issue(home, "Bram")  # children start off
    assert child.status_code == 409 and child.json()["type"].endswith("self_service_off")
    colleague = await _issue(home, actor="generalist_a2")
    assert colleague.status_code == 403
    other_team = await _issue(home, actor="generalist_b")
    assert other_team.status_code == 404
    for outsider in ("partner_a", "privacy_officer", "admin", "resident"):
        assert (await _issue(home, actor=outsider)).status_code == 403, outsider
    code = (await _issue(home)).json()["code"]
    off = await home.post(
        f"/api/v1/households/{home.id}/members/{home.members['Anna']}/self-service/switch", {"enabled": False}
    )
    assert off.status_code == 200
    revoked = await _activate(pages, code)  # switching off revokes a pending code
    assert revoked.status_code == 400


async def test_attempts_are_rate_limited(pages: httpx.AsyncClient) -> None:
    form = await pages.get("/oauth/activate")
    fields = hidden_fields(form.text) | {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    answers = [
        (await pages.post("/oauth/activate", data=fields | {"code": f"AAAA-AAAA-{n:04d}"})).status_code
        for n in range(ACTIVATION_ATTEMPTS_PER_MINUTE + 2)
    ]
    assert answers[:ACTIVATION_ATTEMPTS_PER_MINUTE] == [400] * ACTIVATION_ATTEMPTS_PER_MINUTE
    assert answers[-1] == 429


async def test_the_form_needs_its_csrf_token(pages: httpx.AsyncClient, home: Home) -> None:
    code = (await _issue(home)).json()["code"]
    forged = await pages.post(
        "/oauth/activate",
        data={"code": code, "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD, "csrf_token": "1.x"},
    )
    assert forged.status_code == 400 and "verlopen" in forged.text
    assert (await _activate(pages, code)).status_code == 200  # the code was not used up


def _texts(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in records)


async def test_codes_are_never_logged_or_stored_in_the_clear(
    world: World, home: Home, pages: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, app: FastAPI
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = await _issue(home, **{"Idempotency-Key": f"key-{uuid.uuid4().hex}"})
    code = issued.json()["code"]
    compact = code.replace("-", "")
    activated = await _activate(pages, code)
    assert activated.status_code == 200
    logged = _texts(caplog.records)
    assert "activation-codes" in logged  # the requests were logged ...
    assert code not in logged and compact not in logged  # ... without the code
    async with world.app.state.db.transaction() as session:
        stored = [c for (c,) in await session.execute(sa.select(col(ActivationCode.code_hash)))]
        log_texts = [
            str(dict(r)) for r in (await session.execute(sa.select(table_of(AccessLogEntry)))).mappings()
        ]
        answers = [
            str(dict(r)) for r in (await session.execute(sa.select(table_of(IdempotencyKey)))).mappings()
        ]
    assert stored and all(code not in s and compact not in s for s in stored)
    assert not any(compact in t or code in t for t in log_texts + answers)
    [entry] = await log_rows(world, issued.headers["X-Request-ID"])
    assert (entry.resource, entry.action, str(entry.person_id)) == (
        "activation_code",
        "create",
        home.members["Anna"],
    )
