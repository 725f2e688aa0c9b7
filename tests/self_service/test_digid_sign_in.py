"""Household members signing in through the municipality's OpenID Connect broker (DigiD): a token of
the trusted issuer with a BSN claim maps to the right member; an unknown BSN, a switched-off member, a
confidential household, too low an assurance level and another issuer all get no access and the same
answer. The BSN is never stored, logged or put in a token of ours."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import col

from app.domain.identity.models import User
from app.domain.identity.tokens import NOT_ACCEPTED
from app.security.principal import Principal
from app.settings import Settings
from tests.auth.helpers import own_app
from tests.factories import World
from tests.households.support import fresh_bsn
from tests.self_service.idp import DIGID_BASIS, Broker, serving
from tests.self_service.support import Home, log_rows, make_home


@dataclass
class Setup:
    app: FastAPI
    http: httpx.AsyncClient
    broker: Broker


@pytest.fixture
async def digid(settings: Settings, migrated: str) -> AsyncIterator[Setup]:
    with serving(Broker()) as broker:
        changes = {
            "oidc_issuer": broker.issuer,
            "oidc_jwks_url": broker.issuer + "/keys",
            "oidc_bsn_claim": "bsn",
            "oidc_role_map": {"wijkteam-generalist": "generalist"},
        }
        async with own_app(settings, migrated, **changes) as (application, http):
            yield Setup(application, http, broker)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_bsn_from_the_trusted_broker_signs_the_member_in(
    digid: Setup, home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = digid.broker.token(bsn=home.bsn)
    principal: Principal = await digid.app.state.token_verifier.verify(token)
    assert principal.role == "household_member" and principal.scopes == {"self:read", "self:write"}
    assert (str(principal.member_id), str(principal.household_id)) == (home.members["Anna"], home.id)
    assert principal.client_id == "mijn-gemeente"
    me = await digid.http.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["member"]["given_name"] == "Anna" and home.bsn not in me.text

    async with digid.app.state.db.transaction() as session:
        account = (
            await session.execute(sa.select(User).where(col(User.member_id) == principal.member_id))
        ).scalar_one()
    assert principal.subject == str(account.id) == str(principal.user_id)  # not the broker's sub
    assert account.role == "household_member" and account.password_hash is None
    assert account.external_subject is None and home.bsn not in str(account.model_dump())
    [row] = await log_rows(home.world, me.headers["X-Request-ID"])
    assert row.actor_subject == str(account.id) and home.bsn not in str(row.model_dump())
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert home.bsn not in logged
    # A second sign-in finds the same account.
    again: Principal = await digid.app.state.token_verifier.verify(digid.broker.token(bsn=home.bsn))
    assert again.user_id == account.id


async def test_nobody_to_let_in_gets_one_and_the_same_answer(
    digid: Setup, world: World, client: httpx.AsyncClient, home: Home
) -> None:
    switched_off = await make_home(world, client, with_plan=False)
    off = await switched_off.post(
        f"/api/v1/households/{switched_off.id}/members/{switched_off.members['Anna']}/self-service/switch",
        {"enabled": False},
    )
    assert off.status_code == 200
    confidential = await make_home(world, client, confidential=True, with_plan=False)
    stranger = Broker(issuer="https://another-broker.example")
    refused = {
        "unknown BSN": digid.broker.token(bsn=fresh_bsn()),
        "not a BSN": digid.broker.token(bsn="123456789"),
        "switched-off member": digid.broker.token(bsn=switched_off.bsn),
        "confidential household": digid.broker.token(bsn=confidential.bsn),
        "DigiD Basis": digid.broker.token(bsn=home.bsn, acr=DIGID_BASIS),
        "no assurance level": digid.broker.token(bsn=home.bsn, acr=None),
        "another issuer": stranger.token(bsn=home.bsn),
        "the broker's key, another issuer": digid.broker.token(bsn=home.bsn, iss=stranger.issuer),
    }
    answers = {}
    for why, token in refused.items():
        response = await digid.http.get("/api/v1/me", headers=_bearer(token))
        assert response.status_code == 401, (why, response.text)
        body = response.json()
        answers[why] = (body["type"], body["detail"], response.headers["WWW-Authenticate"])
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values()))[1] == NOT_ACCEPTED
    assert (
        await digid.http.get("/api/v1/me", headers=_bearer(digid.broker.token(bsn=home.bsn)))
    ).status_code == 200


async def test_a_workers_token_of_the_same_broker_is_mapped_as_before(digid: Setup, world: World) -> None:
    subject = f"gen-{world.people['generalist_a'].user.id}"
    async with digid.app.state.db.transaction() as session:
        await session.execute(
            sa.update(User)
            .where(col(User.id) == world.people["generalist_a"].user.id)
            .values(external_subject=subject)
        )
    principal: Principal = await digid.app.state.token_verifier.verify(
        digid.broker.token(sub=subject, roles=["wijkteam-generalist"])
    )
    assert principal.role == "generalist" and principal.member_id is None
