"""Refresh tokens in the purge: every row of an ended sign-in family goes (past its end, idle too
long, revoked, or revoked for reuse); a live family stays whole, used tokens included, so it still
refreshes and a replayed old token still revokes it. Families are made through the real sign-in,
refresh and revocation flow."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import col

from app.domain.base import utcnow
from app.domain.identity.models import RefreshToken
from app.domain.retention.rules import Category
from app.domain.retention.service import purge
from tests.auth.helpers import assert_oauth_error, family_rows, refresh, revoke, signed_in
from tests.retention.support import MARGIN, Estate


async def two_of_a_family(estate: Estate, person: str) -> tuple[str, str]:
    """A sign-in refreshed once: the used first token and its live successor."""
    first = (await signed_in(estate.client, estate.world, person))["refresh_token"]
    answer = await refresh(estate.client, estate.world, first)
    assert answer.status_code == 200, answer.text
    return first, answer.json()["refresh_token"]


async def end_family(estate: Estate, app: FastAPI, token: str, **values: object) -> None:
    """Backdate a family's ends (nothing in the API writes the past)."""
    family = (await family_rows(app, token))[0]["family_id"]
    async with estate.db.transaction() as session:
        await session.execute(
            sa.update(RefreshToken).where(col(RefreshToken.family_id) == family).values(**values)
        )


async def test_ended_families_go_and_a_live_one_stays_usable(estate: Estate, app: FastAPI) -> None:
    client, world = estate.client, estate.world
    past = utcnow() - MARGIN
    used, live = await two_of_a_family(estate, "generalist_a")

    absolute = (await signed_in(client, world, "generalist_a2"))["refresh_token"]
    await end_family(estate, app, absolute, expires_at=past)
    idle_first, idle = await two_of_a_family(estate, "team_lead_a")
    await end_family(estate, app, idle, idle_expires_at=past)
    revoked = (await signed_in(client, world, "generalist_b"))["refresh_token"]
    assert (await revoke(client, world, revoked)).status_code == 200
    replayed, successor = await two_of_a_family(estate, "team_lead_b")
    assert_oauth_error(await refresh(client, world, replayed), "invalid_grant")  # reuse: all revoked

    ended = [absolute, idle, revoked, successor]
    assert [len(await family_rows(app, t)) for t in ended] == [1, 2, 1, 2]
    report = await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert report.counts[Category.refresh_tokens] >= 6  # other tests' ended families may join
    for token in (*ended, idle_first, replayed):
        assert await family_rows(app, token) == []

    # The live family is whole: its used token too, which replay detection needs.
    assert [r["used_at"] is not None for r in await family_rows(app, live)] == [True, False]
    assert (await refresh(client, world, live)).status_code == 200
    assert_oauth_error(await refresh(client, world, used), "invalid_grant")
    assert {r["revoked_at"] is not None for r in await family_rows(app, live)} == {True}


async def test_a_family_within_its_ends_is_not_counted(estate: Estate, app: FastAPI) -> None:
    """A family whose idle end is a minute away is live: the purge leaves it and it refreshes."""
    token = (await signed_in(estate.client, estate.world, "resident"))["refresh_token"]
    await end_family(estate, app, token, idle_expires_at=utcnow() + timedelta(minutes=1))
    await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert len(await family_rows(app, token)) == 1
    assert (await refresh(estate.client, estate.world, token)).status_code == 200
