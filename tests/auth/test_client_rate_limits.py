"""A client's own rate limit (set by an administrator) replaces the default per-client limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.settings import Settings
from app.web.ratelimit import CLIENT_LIMITS_TTL_SECONDS, client_limits
from tests.auth.helpers import TOKEN_URL, assert_rate_limited, basic, own_app
from tests.factories import World
from tests.support.statements import counting_statements

DEFAULT = 4  # the app's default per-client limit, machine routes and token endpoint alike
OWN = 2  # partner_a's own limit: one token every 30 seconds


class Limited:
    def __init__(self, app: Any, http: httpx.AsyncClient, world: World, now: list[float]) -> None:
        self.app, self.http, self.world, self.now = app, http, world, now

    async def set_limit(self, name: str, per_minute: int | None) -> None:
        """Through the admin API, as an administrator does it."""
        path = f"/api/v1/oauth-clients/{self.world.clients[name].id}"
        body = {"rate_limit_per_minute": per_minute}
        response = await self.http.patch(path, json=body, headers=await self.world.headers("admin"))
        assert response.status_code == 200, response.text

    async def api(self, name: str) -> httpx.Response:
        return await self.http.get("/api/v1/referrals", headers=await self.world.headers(name))

    async def token(self, name: str) -> httpx.Response:
        headers = basic(self.world.clients[name].client_id, self.world.secrets[name])
        return await self.http.post(TOKEN_URL, data={"grant_type": "client_credentials"}, headers=headers)


@pytest.fixture
async def limited(settings: Settings, migrated: str) -> AsyncIterator[Limited]:
    """An app of its own (fresh buckets and limit map) on a clock the test moves by hand."""
    now = [0.0]
    changes = {"rate_limit_token_per_minute": DEFAULT, "rate_limit_machine_per_minute": DEFAULT}
    async with own_app(settings, migrated, **changes) as (application, http):
        application.state.rate_limit_clock = lambda: now[0]
        yield Limited(application, http, await World.create(application), now)


def _assert_retry_after(response: httpx.Response, seconds: int) -> None:
    assert_rate_limited(response)
    assert int(response.headers["retry-after"]) == seconds


async def test_a_clients_own_lower_limit_applies_to_its_routes_and_token_requests(limited: Limited) -> None:
    await limited.set_limit("partner_a", OWN)
    await client_limits(limited.app.state).refresh()  # as the background reload does within the TTL

    for _ in range(OWN):
        assert (await limited.api("partner_a")).status_code == 200
    _assert_retry_after(await limited.api("partner_a"), 60 // OWN)  # refilled at its own rate
    for _ in range(OWN):
        assert (await limited.token("partner_a")).status_code == 200
    _assert_retry_after(await limited.token("partner_a"), 60 // OWN)

    # Another client keeps the default, on both.
    for _ in range(DEFAULT):
        assert (await limited.api("partner_b")).status_code == 200
        assert (await limited.token("partner_b")).status_code == 200
    _assert_retry_after(await limited.api("partner_b"), 60 // DEFAULT)


async def test_a_higher_own_limit_lets_a_client_past_the_default(limited: Limited) -> None:
    await limited.set_limit("analyst", DEFAULT * 2)
    await client_limits(limited.app.state).refresh()
    for _ in range(DEFAULT * 2):
        assert (
            await limited.http.get("/api/v1/areas", headers=await limited.world.headers("analyst"))
        ).status_code == 403
    assert_rate_limited(
        await limited.http.get("/api/v1/areas", headers=await limited.world.headers("analyst"))
    )


async def test_changes_arrive_after_the_ttl_without_a_query_per_request(limited: Limited) -> None:
    limits = client_limits(limited.app.state)
    assert (await limited.api("partner_b")).status_code == 200  # the first lookup starts the load
    await limits.settled()

    await limited.set_limit("partner_a", 1)
    with counting_statements(limited.app.state.db) as statements:
        for _ in range(3):
            assert (await limited.api("partner_b")).status_code == 200
    assert not [s for s in statements if "rate_limit_per_minute" in s]  # the map is fresh: no reload

    # Within the TTL the old (default) limit still holds for partner_a ...
    assert (await limited.api("partner_a")).status_code == 200
    assert (await limited.api("partner_a")).status_code == 200
    # ... after it, the next request reloads the map once, in the background, and the new one holds.
    limited.now[0] += CLIENT_LIMITS_TTL_SECONDS + 1
    with counting_statements(limited.app.state.db) as statements:
        assert (await limited.api("partner_b")).status_code == 200
        await limits.settled()
    assert len([s for s in statements if "rate_limit_per_minute" in s]) == 1
    assert (await limited.api("partner_a")).status_code == 200  # its bucket refilled over the 31 s
    _assert_retry_after(await limited.api("partner_a"), 60)

    # Clearing the limit brings back the default.
    await limited.set_limit("partner_a", None)
    await limits.refresh()
    limited.now[0] += 60
    for _ in range(DEFAULT):
        assert (await limited.api("partner_a")).status_code == 200
    assert_rate_limited(await limited.api("partner_a"))
