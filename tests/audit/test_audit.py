"""The access log as the privacy officer and a resident's file see it, and the subject-access export."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import World
from tests.households.support import create_household, fresh_bsn, worker_id


async def test_privacy_officer_queries_the_log(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world, members=[{"given_name": "Lotte", "role": "parent"}])
    hid, member = household["id"], household["members"][0]["id"]
    await client.get(
        f"/api/v1/households/{hid}/members/{member}", headers=await world.headers("generalist_a")
    )
    await client.get(f"/api/v1/households/{hid}", headers=await world.headers("generalist_b"))  # denied
    officer = await world.headers("privacy_officer")
    by_household = (await client.get("/api/v1/audit", params={"household": hid}, headers=officer)).json()[
        "items"
    ]
    assert [(e["action"], e["outcome"]) for e in by_household] == [
        ("read", "denied"),
        ("read", "allowed"),
        ("create", "allowed"),
    ]
    assert by_household[0]["actor_worker_id"] == str(worker_id(world, "generalist_b"))
    assert by_household[0]["actor_name"].startswith("generalist_b")
    by_person = (await client.get("/api/v1/audit", params={"person": member}, headers=officer)).json()[
        "items"
    ]
    assert [e["resource"] for e in by_person] == ["member"]
    denied = await client.get(
        "/api/v1/audit",
        params={"household": hid, "outcome": "denied", "worker": str(worker_id(world, "generalist_b"))},
        headers=officer,
    )
    assert len(denied.json()["items"]) == 1
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert (
        await client.get("/api/v1/audit", params={"household": hid, "from": later}, headers=officer)
    ).json()["items"] == []
    # Pages join up seamlessly (reading the log adds rows of its own, so page over one actor's rows).
    mine = {"household": hid, "actor": str(world.people["generalist_a"].user.id)}
    paged = (await client.get("/api/v1/audit", params={**mine, "limit": 1}, headers=officer)).json()
    rest = (
        await client.get("/api/v1/audit", params={**mine, "cursor": paged["next_cursor"]}, headers=officer)
    ).json()
    assert [e["id"] for e in paged["items"] + rest["items"]] == [e["id"] for e in by_household[1:]]
    assert rest["next_cursor"] is None
    oversight = (
        await client.get(
            "/api/v1/audit", params={"actor": str(world.people["privacy_officer"].user.id)}, headers=officer
        )
    ).json()
    assert {e["resource"] for e in oversight["items"]} == {"access_log"}  # reading the log is logged too
    bad = await client.get("/api/v1/audit", params={"action": "peek"}, headers=officer)
    assert bad.status_code == 422


async def test_a_household_lists_who_accessed_its_file(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world, confidential=True)
    url = f"/api/v1/households/{household['id']}"
    await client.get(url, headers=await world.headers("generalist_a2"))  # denied: not involved
    await client.post(
        f"{url}/break-glass",
        json={"reason": "Spoed, coordinator op vakantie"},
        headers=await world.headers("generalist_a2"),
    )
    await client.get(url, headers=await world.headers("generalist_a2"))
    log = await client.get(f"{url}/access-log", headers=await world.headers("generalist_a"))
    assert log.status_code == 200
    entries = log.json()["items"]
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("read", "allowed"),
        ("break_glass", "allowed"),
        ("read", "denied"),
        ("create", "allowed"),
    ]
    assert entries[1]["reason"] == "Spoed, coordinator op vakantie"
    assert entries[0]["actor_name"].startswith("generalist_a2") and entries[0]["actor_role"] == "generalist"
    assert "actor_subject" not in entries[0]
    hidden = await client.get(f"{url}/access-log", headers=await world.headers("team_lead_a"))
    assert hidden.status_code == 404


async def test_subject_access_export(client: httpx.AsyncClient, world: World) -> None:
    bsn = fresh_bsn()
    members = [
        {"given_name": "Marit", "role": "parent", "bsn": bsn},
        {"given_name": "Nina", "role": "child"},
    ]
    household = await create_household(client, world, members=members, themes=["debts"])
    hid = household["id"]
    marit = household["members"][0]["id"]
    contact = {
        "kind": "home_visit",
        "occurred_at": "2026-04-01T10:00:00Z",
        "minutes": 60,
        "note": "Thuisbezoek.",
    }
    await client.post(
        f"/api/v1/households/{hid}/contacts", json=contact, headers=await world.headers("generalist_a")
    )
    await client.get(f"/api/v1/households/{hid}/members/{marit}", headers=await world.headers("generalist_a"))
    officer = await world.headers("privacy_officer")
    by_id = await client.post("/api/v1/audit/subject-access", json={"member_id": marit}, headers=officer)
    assert by_id.status_code == 200, by_id.text
    export = by_id.json()
    assert export["member_ids"] == [marit] and export["household_ids"] == [hid]
    sections = export["sections"]
    assert [m["given_name"] for m in sections["members"]] == ["Marit"]
    assert sections["members"][0]["bsn_masked"] == "******" + bsn[-3:]
    assert bsn not in by_id.text
    assert sections["households"][0]["themes"] == ["debts"]
    assert [c["note"] for c in sections["contact_moments"]] == ["Thuisbezoek."]
    assert "access_grants" in sections
    assert {(e["resource"], e["action"]) for e in export["access_log"]} >= {
        ("household", "create"),
        ("member", "read"),
    }
    by_bsn = await client.post("/api/v1/audit/subject-access", json={"bsn": bsn}, headers=officer)
    assert marit in by_bsn.json()["member_ids"]
    nobody = await client.post(
        "/api/v1/audit/subject-access", json={"member_id": str(uuid.uuid4())}, headers=officer
    )
    assert nobody.status_code == 404
    both = await client.post(
        "/api/v1/audit/subject-access", json={"member_id": marit, "bsn": bsn}, headers=officer
    )
    assert both.status_code == 422 and bsn not in both.text
    logged = (
        await client.get("/api/v1/audit", params={"person": marit, "action": "export"}, headers=officer)
    ).json()
    assert [e["purpose"] for e in logged["items"]][:1] == ["subject_access_request"]
