"""Offline sync: full snapshot, incremental changes, tombstones when access ends, reset on a new
team membership, and a watermark that never skips a transaction that commits late."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from app.domain.households.models import ContactMoment
from app.domain.organisation.models import WorkerTeam
from app.domain.unit_of_work.change_feed import ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork
from tests.factories import World
from tests.households.support import create_household, etag, households, sync_all, worker_id


async def test_full_sync_is_the_caseload(client: httpx.AsyncClient, world: World) -> None:
    mine = await create_household(
        client, world, members=[{"given_name": "Ina", "role": "parent", "bsn": "111222333"}]
    )
    secret = await create_household(client, world, confidential=True)
    theirs = await create_household(client, world, "generalist_b", team="b")
    contact = {"kind": "phone", "occurred_at": "2026-03-01T10:00:00Z", "minutes": 5}
    await client.post(
        f"/api/v1/households/{mine['id']}/contacts",
        json=contact,
        headers=await world.headers("generalist_a"),
    )
    a = await sync_all(client, world, "generalist_a", limit=1)
    assert {mine["id"], secret["id"]} <= households(a) and theirs["id"] not in households(a)
    assert a["pages"] >= 2  # paged by household
    member = a["upserts"][("member", mine["members"][0]["id"])]
    assert member["data"]["has_bsn"] is True and member["data"]["bsn"] is None
    assert "111222333" not in str(a["upserts"])
    assert any(e == "contact_moment" for (e, _) in a["upserts"])
    a2 = await sync_all(client, world, "generalist_a2")
    assert mine["id"] in households(a2) and secret["id"] not in households(a2)
    b = await sync_all(client, world, "generalist_b")
    assert theirs["id"] in households(b) and not {mine["id"], secret["id"]} & households(b)


async def test_incremental_changes_and_deletions(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world, members=[{"given_name": "Jan", "role": "parent"}])
    first = await sync_all(client, world, "generalist_a")
    nothing = await sync_all(client, world, "generalist_a", first["cursor"])
    assert nothing["upserts"] == {} and nothing["tombstones"] == set()
    headers = await world.headers("generalist_a")
    url = f"/api/v1/households/{household['id']}"
    contact = await client.post(
        f"{url}/contacts", json={"kind": "office", "occurred_at": "2026-03-02T10:00:00Z"}, headers=headers
    )
    member = household["members"][0]
    tag = f'"{member["id"]}.1"'
    assert (
        await client.delete(f"{url}/members/{member['id']}", headers={**headers, "If-Match": tag})
    ).status_code == 204
    changed = await sync_all(client, world, "generalist_a", first["cursor"])
    # the household's worklist (derived from its objects) goes again with its changes
    sent = {("contact_moment", contact.json()["id"]), ("worklist", household["id"])}
    assert set(changed["upserts"]) == sent
    assert changed["tombstones"] == {("member", member["id"])}
    assert (await sync_all(client, world, "generalist_a", changed["cursor"]))["upserts"] == {}


async def test_handover_tombstones_the_old_team_and_sends_the_new_one_everything(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world, members=[{"given_name": "Kees", "role": "parent"}])
    a = await sync_all(client, world, "generalist_a")
    b = await sync_all(client, world, "generalist_b")
    assert household["id"] in households(a) and household["id"] not in households(b)
    body = {"coordinator_id": str(worker_id(world, "generalist_b")), "team_id": str(world.teams["b"].id)}
    lead = {**await world.headers("team_lead_a"), "If-Match": await etag(client, world, household["id"])}
    assert (
        await client.put(f"/api/v1/households/{household['id']}/coordinator", json=body, headers=lead)
    ).status_code == 200
    a_after = await sync_all(client, world, "generalist_a", a["cursor"])
    assert a_after["tombstones"] == {("household", household["id"])} and a_after["upserts"] == {}
    b_after = await sync_all(client, world, "generalist_b", b["cursor"])
    assert households(b_after) == {household["id"]}
    assert ("member", household["members"][0]["id"]) in b_after["upserts"]


async def test_confidentiality_and_assignment_changes(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world)
    hid = household["id"]
    a2 = await sync_all(client, world, "generalist_a2")
    b = await sync_all(client, world, "generalist_b")
    url = f"/api/v1/households/{hid}"
    tag = await etag(client, world, hid)
    await client.patch(
        url, json={"confidential": True}, headers={**await world.headers("generalist_a"), "If-Match": tag}
    )
    a2_after = await sync_all(client, world, "generalist_a2", a2["cursor"])
    assert a2_after["tombstones"] == {("household", hid)}
    b_after = await sync_all(client, world, "generalist_b", b["cursor"])
    assert b_after["tombstones"] == set() and b_after["upserts"] == {}  # team B never learns the id
    lead = await world.headers("team_lead_a")
    await client.post(
        f"{url}/assignments", json={"worker_id": str(worker_id(world, "generalist_a2"))}, headers=lead
    )
    assigned = await sync_all(client, world, "generalist_a2", a2_after["cursor"])
    assert households(assigned) == {hid}
    removal = f"{url}/assignments/{worker_id(world, 'generalist_a2')}"
    await client.delete(removal, headers={**lead, "If-Match": await etag(client, world, hid)})
    removed = await sync_all(client, world, "generalist_a2", assigned["cursor"])
    assert removed["tombstones"] == {("household", hid)}


async def test_break_glass_access_is_never_synced(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world, confidential=True)
    reason = {"reason": "Spoedmelding, coordinator ziek"}
    grant = await client.post(
        f"/api/v1/households/{household['id']}/break-glass",
        json=reason,
        headers=await world.headers("generalist_a2"),
    )
    assert grant.status_code == 201
    assert household["id"] not in households(await sync_all(client, world, "generalist_a2"))


async def test_new_team_membership_resets(client: httpx.AsyncClient, world: World) -> None:
    await create_household(client, world, "generalist_b", team="b")
    first = await sync_all(client, world, "generalist_a")
    async with world.app.state.db.transaction() as session:
        session.add(WorkerTeam(worker_id=worker_id(world, "generalist_a"), team_id=world.teams["b"].id))
    again = await sync_all(client, world, "generalist_a", first["cursor"])
    assert again["reset"] is True
    assert len(households(again)) == 1  # the fresh snapshot includes team B's household


async def test_cursor_is_opaque_and_personal(client: httpx.AsyncClient, world: World) -> None:
    first = await sync_all(client, world, "generalist_a")
    garbage = await client.get(
        "/api/v1/sync", params={"cursor": "abc.def"}, headers=await world.headers("generalist_a")
    )
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["rule"] == "cursor_invalid"
    borrowed = await client.get(
        "/api/v1/sync", params={"cursor": first["cursor"]}, headers=await world.headers("generalist_a2")
    )
    assert borrowed.status_code == 422


async def test_a_transaction_that_commits_late_is_not_skipped(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world)
    first = await sync_all(client, world, "generalist_a")
    contact_id = uuid.uuid4()
    slow = UnitOfWork(world.app.state.db, world.app.state.wiring)
    try:
        # A writer that started (and got its transaction id) before the next sync, commits after it.
        slow.session.add(
            ContactMoment(
                id=contact_id,
                household_id=uuid.UUID(household["id"]),
                kind="phone",
                occurred_at=datetime.now(UTC),
                minutes=1,
            )
        )
        await slow.session.flush()
        slow.record_change(ChangeRecord(uuid.UUID(household["id"]), "contact_moment", contact_id))
        await slow.flush()
        headers = await world.headers("generalist_a")
        # No settle here: it would wait for the open writer. The sync must not pass it by.
        response = await client.get("/api/v1/sync", params={"cursor": first["cursor"]}, headers=headers)
        during = response.json()
        assert ("contact_moment", str(contact_id)) not in {(u["entity"], u["id"]) for u in during["upserts"]}
        await slow.commit()
    finally:
        await slow.close()
    after = await sync_all(client, world, "generalist_a", during["cursor"])
    assert ("contact_moment", str(contact_id)) in after["upserts"]
