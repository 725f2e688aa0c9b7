"""Assignments, coordinator handover and break-glass access."""

from __future__ import annotations

import uuid

import httpx

from tests.factories import World
from tests.households.support import access_rows, create_household, etag, worker_id


async def test_assignment_opens_a_confidential_household(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world, confidential=True)
    url = f"/api/v1/households/{household['id']}"
    a2 = await world.headers("generalist_a2")
    assert (await client.get(url, headers=a2)).status_code == 404
    lead = await world.headers("team_lead_a")
    by_worker = await client.post(
        f"{url}/assignments", json={"worker_id": str(worker_id(world, "generalist_a2"))}, headers=a2
    )
    assert by_worker.status_code == 403  # cases:assign is for team leads
    assigned = await client.post(
        f"{url}/assignments", json={"worker_id": str(worker_id(world, "generalist_a2"))}, headers=lead
    )
    assert assigned.status_code == 201, assigned.text
    assert [a["worker_id"] for a in assigned.json()] == [str(worker_id(world, "generalist_a2"))]
    assert (await client.get(url, headers=a2)).status_code == 200
    listed = await client.get(f"{url}/assignments", headers=a2)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1
    other_team = await client.post(
        f"{url}/assignments", json={"worker_id": str(worker_id(world, "generalist_b"))}, headers=lead
    )
    assert other_team.status_code == 422 and other_team.json()["errors"][0]["rule"] == "worker_not_in_team"
    tag = await etag(client, world, household["id"])
    removal = f"{url}/assignments/{worker_id(world, 'generalist_a2')}"
    assert (await client.delete(removal, headers=lead)).status_code == 428
    removed = await client.delete(removal, headers={**lead, "If-Match": tag})
    assert removed.status_code == 204
    assert (await client.get(url, headers=a2)).status_code == 404
    again = await client.delete(
        removal, headers={**lead, "If-Match": await etag(client, world, household["id"])}
    )
    assert again.status_code == 404 and again.json()["detail"] == "The assignment was not found."


async def test_handover_within_and_across_teams(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world)
    url = f"/api/v1/households/{household['id']}"
    lead = await world.headers("team_lead_a")
    body = {"coordinator_id": str(worker_id(world, "generalist_a2"))}
    assert (await client.put(f"{url}/coordinator", json=body, headers=lead)).status_code == 428
    moved = await client.put(
        f"{url}/coordinator",
        json=body,
        headers={**lead, "If-Match": await etag(client, world, household["id"])},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["coordinator_id"] == body["coordinator_id"]
    wrong_team = {"coordinator_id": str(worker_id(world, "generalist_b"))}
    refused = await client.put(
        f"{url}/coordinator", json=wrong_team, headers={**lead, "If-Match": moved.headers["etag"]}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "coordinator_id"]
    to_b = {**wrong_team, "team_id": str(world.teams["b"].id)}
    handed = await client.put(
        f"{url}/coordinator", json=to_b, headers={**lead, "If-Match": moved.headers["etag"]}
    )
    assert handed.status_code == 200 and handed.json()["team_id"] == str(world.teams["b"].id)
    assert (await client.get(url, headers=await world.headers("generalist_a"))).status_code == 404
    assert (await client.get(url, headers=await world.headers("generalist_b"))).status_code == 200
    by_worker = await client.put(f"{url}/coordinator", json=to_b, headers=await world.headers("generalist_b"))
    assert by_worker.status_code == 403


async def test_break_glass(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world, confidential=True)
    url = f"/api/v1/households/{household['id']}"
    a2 = await world.headers("generalist_a2")
    reason = "Acute melding van de huisarts, coordinator onbereikbaar"
    short = await client.post(f"{url}/break-glass", json={"reason": "nu"}, headers=a2)
    assert short.status_code == 422
    other_team = await client.post(
        f"{url}/break-glass", json={"reason": reason}, headers=await world.headers("generalist_b")
    )
    assert other_team.status_code == 404
    needless = await client.post(
        f"{url}/break-glass", json={"reason": reason}, headers=await world.headers("generalist_a")
    )
    assert (
        needless.status_code == 409
        and needless.json()["type"] == "urn:wijkwerk:problem:break_glass_not_needed"
    )
    granted = await client.post(f"{url}/break-glass", json={"reason": reason}, headers=a2)
    assert granted.status_code == 201, granted.text
    assert (await client.get(url, headers=a2)).status_code == 200
    rows = await access_rows(world, household_id=uuid.UUID(household["id"]), action="break_glass")
    assert [(r["outcome"], r["reason"]) for r in rows] == [
        ("denied", reason),
        ("failed", reason),
        ("allowed", reason),
    ]
    assert "Acute" not in needless.text
    events = await client.get("/api/v1/audit/break-glass", headers=await world.headers("privacy_officer"))
    assert events.status_code == 200
    mine = [e for e in events.json()["items"] if e["household_id"] == household["id"]]
    assert [(e["worker_id"], e["reason"]) for e in mine] == [(str(worker_id(world, "generalist_a2")), reason)]
    assert (await client.get("/api/v1/audit/break-glass", headers=a2)).status_code == 403
