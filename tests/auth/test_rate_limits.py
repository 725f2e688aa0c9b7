"""Rate limits: the token endpoint (per client, else per IP), machine clients' routes, the login form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.domain.errors import RateLimited
from app.settings import Settings
from app.web.ratelimit import MAX_KEYS, RateLimiter
from tests.auth.helpers import (
    TOKEN_URL,
    Pkce,
    assert_rate_limited,
    authorize_params,
    basic,
    hidden_fields,
    own_app,
)
from tests.factories import World

LIMIT = 3


@pytest.fixture(scope="module")
async def limited(settings: Settings, migrated: str) -> AsyncIterator[tuple[Any, httpx.AsyncClient, World]]:
    """An app of its own whose limits are three requests a minute, on a stopped clock."""
    async with own_app(
        settings, migrated, rate_limit_token_per_minute=LIMIT, rate_limit_machine_per_minute=LIMIT
    ) as (application, http):
        application.state.rate_limit_clock = lambda: 0.0  # time stands still: no refill mid-test
        yield application, http, await World.create(application)


async def test_token_endpoint_per_client(limited: tuple[Any, httpx.AsyncClient, World]) -> None:
    _, http, world = limited

    async def ask(name: str) -> httpx.Response:
        headers = basic(world.clients[name].client_id, world.secrets[name])
        return await http.post(TOKEN_URL, data={"grant_type": "client_credentials"}, headers=headers)

    for _ in range(LIMIT):
        assert (await ask("partner_a")).status_code == 200
    assert_rate_limited(await ask("partner_a"))
    # Another client has a bucket of its own.
    assert (await ask("partner_b")).status_code == 200


async def test_token_endpoint_per_ip_for_unknown_clients(
    limited: tuple[Any, httpx.AsyncClient, World],
) -> None:
    _, http, _ = limited
    for i in range(LIMIT):
        response = await http.post(
            TOKEN_URL, data={"grant_type": "client_credentials"}, headers=basic(f"nobody-{i}", "x")
        )
        assert response.status_code == 401
    assert_rate_limited(await http.post(TOKEN_URL, data={"grant_type": "client_credentials"}))


async def test_machine_clients_are_limited_on_every_route(
    limited: tuple[Any, httpx.AsyncClient, World],
) -> None:
    _, http, world = limited
    partner = await world.headers("analyst")
    for _ in range(LIMIT):
        assert (await http.get("/api/v1/areas", headers=partner)).status_code == 403  # counted, then denied
    assert_rate_limited(await http.get("/api/v1/areas", headers=partner))
    # People are not limited per client (they sign in through the app, one bucket would starve a team).
    admin = await world.headers("admin")
    for _ in range(LIMIT + 2):
        assert (await http.get("/api/v1/areas", headers=admin)).status_code == 200
    # An anonymous caller is refused before any counting.
    assert (await http.get("/api/v1/areas")).status_code == 401


async def test_login_attempts_are_limited_per_username_and_ip(
    limited: tuple[Any, httpx.AsyncClient, World],
) -> None:
    from app.api.oauth.authorize import LOGIN_ATTEMPTS_PER_MINUTE

    _, http, world = limited
    page = await http.get("/oauth/authorize", params=authorize_params(world, Pkce.new()))
    form = hidden_fields(page.text) | {"username": world.people["resident"].username, "password": "guess"}
    for _ in range(LOGIN_ATTEMPTS_PER_MINUTE):
        assert (await http.post("/oauth/authorize", data=form)).status_code == 400
    blocked = await http.post("/oauth/authorize", data=form | {"password": "correct horse battery staple"})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert "location" not in blocked.headers


def test_bucket_refills_and_says_when() -> None:
    now = [0.0]
    bucket = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of 60
    for _ in range(60):
        bucket.hit("a")
    with pytest.raises(RateLimited) as raised:
        bucket.hit("a")
    assert raised.value.retry_after == 1
    bucket.hit("b")  # keys are independent
    now[0] += 1.0
    bucket.hit("a")
    slow = RateLimiter(2, clock=lambda: now[0])  # one every 30 s
    slow.hit("x")
    slow.hit("x")
    with pytest.raises(RateLimited) as raised:
        slow.hit("x")
    assert raised.value.retry_after == 30


def test_many_keys_do_not_grow_memory_without_bound() -> None:
    now = [0.0]
    bucket = RateLimiter(10, clock=lambda: now[0])
    for i in range(MAX_KEYS + 50):
        now[0] += 0.001
        bucket.hit(f"forged-{i}")
    assert len(bucket._buckets) <= MAX_KEYS
