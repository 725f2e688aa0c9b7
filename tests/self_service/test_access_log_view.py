"""Who accessed their data: the member's access-log view. A read by a worker, a partner through a
referral, a break-glass, a list, a sync and a search each appear exactly once; the view shows rows
about the member and their household, not about another adult or another household, newest first,
worded plainly, and names workers only when the municipality chose so."""

from __future__ import annotations

import uuid
from collections import Counter

import httpx
from fastapi import FastAPI

from app.settings import Settings
from tests.auth.helpers import own_app
from tests.factories import World
from tests.self_service.support import (
    Home,
    Signed,
    account,
    consent,
    everything_shown,
    log_rows,
    make_home,
    referral,
)
from tests.support.statements import counting_statements


async def _entry_for(home: Home, response: httpx.Response) -> uuid.UUID:
    """The one access-log entry a request left about this household."""
    assert response.status_code in (200, 201), response.text
    rows = [
        r
        for r in await log_rows(home.world, response.headers["X-Request-ID"])
        if str(r.household_id) == home.id
    ]
    assert len(rows) == 1, rows
    return rows[0].id


async def test_each_kind_of_access_appears_exactly_once(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    await consent(home, "Anna")
    referral_id = await referral(home, "Anna")
    entries = {
        "worker read": await _entry_for(home, await home.get(f"/api/v1/households/{home.id}/plan")),
        "partner read": await _entry_for(
            home, await home.get(f"/api/v1/referrals/{referral_id}", "partner_a")
        ),
        "list": await _entry_for(home, await home.get("/api/v1/households", limit=100)),
        "sync": await _entry_for(home, await home.get("/api/v1/sync", limit=100)),
        "search": await _entry_for(home, await home.post("/api/v1/households/search", {"bsn": home.bsn})),
    }
    shown = await everything_shown(client, anna)
    counts = Counter(e["id"] for e in shown)
    assert {kind: counts[str(entry)] for kind, entry in entries.items()} == dict.fromkeys(entries, 1)
    by_id = {e["id"]: e for e in shown}
    partner = by_id[str(entries["partner read"])]
    organisation = home.world.organisations["a"].name
    assert (partner["who"], partner["organisation"], partner["what"]) == (
        organisation,
        organisation,
        "a referral",
    )
    assert partner["purpose"] == "a referral between the wijkteam and a partner organisation"
    worker = by_id[str(entries["worker read"])]
    assert (worker["who"], worker["action"], worker["change"]) == (
        "A generalist of the wijkteam",
        "read",
        False,
    )
    assert worker["organisation"] == home.world.teams["a"].name
    assert by_id[str(entries["sync"])]["summary"].startswith("A generalist of the wijkteam")
    stamps = [e["occurred_at"] for e in shown]
    assert stamps == sorted(stamps, reverse=True)  # newest first


async def test_break_glass_shows_once_with_its_reason(world: World, client: httpx.AsyncClient) -> None:
    home = await make_home(world, client, confidential=True, with_plan=False)
    switched = await home.post(f"/api/v1/households/{home.id}/self-service/switch", {"enabled": True})
    assert switched.status_code == 200, switched.text
    anna = await account(world, home, "Anna")
    reason = "Melding van de politie over de veiligheid van Bram."
    glass = await home.post(f"/api/v1/households/{home.id}/break-glass", {"reason": reason}, "generalist_a2")
    entry = await _entry_for(home, glass)
    [shown] = [e for e in await everything_shown(client, anna) if e["id"] == str(entry)]
    assert shown["break_glass"] is True and shown["reason"] == reason
    assert shown["action"] == "break_glass" and shown["summary"].endswith(f"Stated reason: {reason}")


async def test_rows_about_another_adult_or_household_and_the_members_own_visits_are_left_out(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    about_ewout = await home.get(f"/api/v1/households/{home.id}/members/{home.members['Ewout']}")
    about_bram = await home.get(f"/api/v1/households/{home.id}/members/{home.members['Bram']}")
    about_anna = await home.get(f"/api/v1/households/{home.id}/members/{home.members['Anna']}")
    other = await make_home(world, client, with_plan=False)
    elsewhere = await other.get(f"/api/v1/households/{other.id}")
    ewout = await account(world, home, "Ewout")
    ewouts_read = await client.get("/api/v1/me/plan", headers=await ewout.headers())
    own_read = await client.get("/api/v1/me/plan", headers=await anna.headers())
    shown = {e["id"]: e for e in await everything_shown(client, anna)}

    assert str(await _entry_for(home, about_anna)) in shown
    assert str(await _entry_for(home, about_bram)) in shown  # a child's data is the parents' to see
    assert str(await _entry_for(home, about_ewout)) not in shown
    assert str(await _entry_for(other, elsewhere)) not in shown
    [own] = await log_rows(world, own_read.headers["X-Request-ID"])
    assert str(own.id) not in shown
    [housemate] = await log_rows(world, ewouts_read.headers["X-Request-ID"])
    assert shown[str(housemate.id)]["who"] == "A member of your household"
    # Ewout's own view leaves out what is about Anna alone, as hers leaves out what is about him.
    ewouts_view = {e["id"] for e in await everything_shown(client, ewout)}
    assert str(await _entry_for(home, about_anna)) not in ewouts_view
    assert str(await _entry_for(home, about_ewout)) in ewouts_view


async def test_the_view_pages_with_signed_cursors(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    for _ in range(3):
        await home.get(f"/api/v1/households/{home.id}/plan")
    headers = await anna.headers()
    first = await client.get("/api/v1/me/access-log", params={"limit": 2}, headers=headers)
    assert first.status_code == 200 and len(first.json()["items"]) == 2
    [looked] = await log_rows(home.world, first.headers["X-Request-ID"])  # reading the log is logged too
    assert (looked.resource, looked.action, looked.purpose) == ("access_log", "list", "self_service")
    cursor = first.json()["next_cursor"]
    assert cursor
    second = await client.get("/api/v1/me/access-log", params={"limit": 2, "cursor": cursor}, headers=headers)
    assert second.status_code == 200
    assert {e["id"] for e in first.json()["items"]}.isdisjoint(e["id"] for e in second.json()["items"])
    forged = await client.get("/api/v1/me/access-log", params={"cursor": cursor[:-2] + "xx"}, headers=headers)
    assert forged.status_code in (400, 422)
    other_list = await client.get("/api/v1/me/consents", params={"cursor": cursor}, headers=headers)
    assert other_list.status_code in (400, 422)  # a cursor names its list


async def test_worker_names_are_shown_when_the_municipality_chose_so(
    settings: Settings, migrated: str, app: FastAPI, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    read = await _entry_for(home, await home.get(f"/api/v1/households/{home.id}/plan"))
    worker = home.world.people["generalist_a"].worker
    assert worker is not None
    async with own_app(settings, migrated, self_service_worker_names=True) as (_app, http):
        # The named app verifies tokens of the same keys (the same database).
        response = await http.get(
            "/api/v1/me/access-log", params={"limit": 100}, headers=await anna.headers()
        )
    assert response.status_code == 200, response.text
    [entry] = [e for e in response.json()["items"] if e["id"] == str(read)]
    assert entry["who"] == worker.name and entry["role"] == "generalist of the wijkteam"
    unnamed = [e for e in await everything_shown(client, anna) if e["id"] == str(read)]
    assert unnamed[0]["who"] == "A generalist of the wijkteam" and worker.name not in str(unnamed)


async def test_a_page_of_the_view_costs_the_same_statements_whatever_it_shows(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    """The member's row, the page (worded from one statement: names, teams, organisation and the
    municipality come with the rows) and the request's own log entry: three statements, for 2 rows or
    for 40."""
    await consent(home, "Anna")
    referral_id = await referral(home, "Anna")
    for _ in range(20):
        await home.get(f"/api/v1/households/{home.id}/plan")
        await home.get(f"/api/v1/referrals/{referral_id}", "partner_a")
    headers = await anna.headers()
    counts = []
    for limit in (2, 40):
        with counting_statements(home.world.app.state.db) as seen:
            page = await client.get("/api/v1/me/access-log", params={"limit": limit}, headers=headers)
        assert page.status_code == 200 and len(page.json()["items"]) == limit
        counts.append(len(seen))
    assert counts == [3, 3]
