"""The skeleton end to end: health, readiness, a scoped admin route and its problem answers."""

from __future__ import annotations

import httpx

from tests.factories import World


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["migrations"] == "at_head"


async def test_admin_route_needs_a_token_and_the_scope(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await client.get("/api/v1/areas")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    partner = await client.get("/api/v1/areas", headers=await world.headers("partner_a"))
    assert partner.status_code == 403
    assert 'error="insufficient_scope"' in partner.headers["www-authenticate"]

    admin = await client.get(
        "/api/v1/areas",
        headers=await world.headers("admin"),
        params={"municipality_id": str(world.municipality.id), "level": "buurt"},
    )
    assert admin.status_code == 200
    codes = {a["code"] for a in admin.json()["items"]}
    assert {b.code for b in world.buurten} <= codes
