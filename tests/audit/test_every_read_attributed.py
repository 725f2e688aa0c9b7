"""Every answer that carries a household's case data is in that household's access log (NEN 7513):
the household list, a search, a sync page and a partner's referral list each leave one entry per
household they showed; an attempt that fails before any service logged leaves its entry too."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from app.domain.unit_of_work.access_log import AccessEntry, AccessLogEntry
from tests.factories import World
from tests.households.support import create_household


async def _rows(world: World, request_id: str) -> list[Any]:
    async with world.app.state.db.transaction() as session:
        query = sa.select(AccessLogEntry).where(col(AccessLogEntry.request_id) == request_id)
        return list((await session.execute(query)).scalars())


def _households(rows: list[Any]) -> list[str]:
    return sorted(str(r.household_id) for r in rows)


async def _get(
    client: httpx.AsyncClient, world: World, actor: str, path: str, **params: Any
) -> tuple[Any, str]:
    headers = await world.headers(actor)
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["X-Request-ID"]


async def test_the_household_list_logs_each_household_it_shows(
    client: httpx.AsyncClient, world: World
) -> None:
    made = [await create_household(client, world) for _ in range(3)]
    page, request_id = await _get(client, world, "generalist_a", "/api/v1/households", limit=2)
    rows = await _rows(world, request_id)
    assert _households(rows) == sorted(item["id"] for item in page["items"])
    assert len(rows) == 2 and len({r.id for r in rows}) == 2  # an entry of its own per household
    assert {(r.resource, r.action, r.outcome) for r in rows} == {("household", "list", "allowed")}
    rest, request_id = await _get(
        client, world, "generalist_a", "/api/v1/households", cursor=page["next_cursor"], limit=2
    )
    shown = {item["id"] for item in page["items"] + rest["items"]}
    assert shown >= {m["id"] for m in made}
    assert _households(await _rows(world, request_id)) == sorted(item["id"] for item in rest["items"])


async def test_an_empty_list_still_leaves_one_entry(client: httpx.AsyncClient, world: World) -> None:
    page, request_id = await _get(client, world, "generalist_b", "/api/v1/households", status="closed")
    assert page["items"] == []
    [row] = await _rows(world, request_id)
    assert (row.resource, row.action, row.household_id) == ("household", "list", None)


async def test_a_search_logs_each_household_it_found(client: httpx.AsyncClient, world: World) -> None:
    first = await create_household(client, world, postcode="9999 ZZ", house_number=7)
    second = await create_household(client, world, postcode="9999 ZZ", house_number=7)
    headers = await world.headers("generalist_a")
    found = await client.post(
        "/api/v1/households/search", json={"postcode": "9999 ZZ", "house_number": 7}, headers=headers
    )
    assert found.status_code == 200, found.text
    rows = await _rows(world, found.headers["X-Request-ID"])
    assert _households(rows) == sorted([first["id"], second["id"]])
    assert {(r.action, r.outcome) for r in rows} == {("search", "allowed")}


async def test_a_sync_page_logs_each_household_whose_data_it_carries(
    client: httpx.AsyncClient, world: World
) -> None:
    made = [await create_household(client, world) for _ in range(2)]
    page, request_id = await _get(client, world, "generalist_a", "/api/v1/sync", limit=100)
    carried = {u["household_id"] for u in page["upserts"]}
    assert carried >= {m["id"] for m in made}
    rows = await _rows(world, request_id)
    assert _households(rows) == sorted(carried)
    assert {(r.resource, r.action) for r in rows} == {("household", "sync")}


async def test_a_partner_referral_list_logs_each_referral_with_its_household_and_person(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world, members=[{"given_name": "Sanne", "role": "parent"}])
    member_id = household["members"][0]["id"]
    consent = await client.post(
        f"/api/v1/households/{household['id']}/consents",
        json={
            "member_id": member_id,
            "organisation_id": str(world.organisations["a"].id),
            "purpose": "finances",
            "categories": ["identity"],
        },
        headers=await world.headers("generalist_a"),
    )
    assert consent.status_code == 201, consent.text
    referral = await client.post(
        f"/api/v1/households/{household['id']}/referrals",
        json={
            "member_id": member_id,
            "organisation_id": str(world.organisations["a"].id),
            "reason_domain": "finances",
            "description": "Schulden in kaart brengen.",
            "legal_basis": "consent",
        },
        headers=await world.headers("generalist_a"),
    )
    assert referral.status_code == 201, referral.text
    page, request_id = await _get(client, world, "partner_a", "/api/v1/referrals")
    assert referral.json()["id"] in {item["id"] for item in page["items"]}
    rows = {str(r.resource_id): r for r in await _rows(world, request_id)}
    row = rows[referral.json()["id"]]
    assert (str(row.household_id), str(row.person_id), row.action) == (household["id"], member_id, "list")


async def test_a_case_request_refused_by_its_input_still_leaves_its_entry(
    client: httpx.AsyncClient, world: World
) -> None:
    """An invalid body never reaches a service; the attempt is on record all the same, as failed."""
    household = await create_household(client, world)
    headers = await world.headers("generalist_a")
    response = await client.post(
        f"/api/v1/households/{household['id']}/contacts", json={"kind": "séance"}, headers=headers
    )
    assert response.status_code == 422
    [row] = await _rows(world, response.headers["X-Request-ID"])
    # Named after the route, as a refused scope is ("/households/{household_id}/contacts").
    assert (row.resource, row.action, row.outcome) == ("contact", "create", "failed")
    assert str(row.household_id) == household["id"]


async def test_a_break_glass_reason_with_a_nul_is_refused_and_on_record(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world, actor="generalist_a", confidential=True)
    headers = await world.headers("generalist_a2")
    response = await client.post(
        f"/api/v1/households/{household['id']}/break-glass",
        json={"reason": "Spoed: melding \x00 van de politie"},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    [row] = await _rows(world, response.headers["X-Request-ID"])
    assert row.outcome == "failed" and str(row.household_id) == household["id"]
    assert row.reason is None  # refused input is not written into the log either


def test_a_nul_in_a_stated_reason_cannot_keep_an_entry_out_of_the_log() -> None:
    """The last line of defence: an entry's row never holds text PostgreSQL refuses."""
    entry = AccessEntry(
        actor_subject="s",
        actor_role="generalist",
        actor_worker_id=None,
        client_id="c",
        organisation_id=None,
        resource="household",
        action="break_glass",
        reason="a\x00b",
        household_id=uuid.uuid4(),
    )
    assert "\x00" not in entry.row()["reason"]
