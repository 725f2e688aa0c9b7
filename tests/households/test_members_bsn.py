"""Members and the BSN: validated, encrypted at rest, blind-indexed, searched by POST body only,
revealed only to callers holding bsn:read, never echoed."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from tests.factories import World
from tests.households.support import BSN_1, BSN_2, add_worker, create_household


async def _raw_member(world: World, member_id: str) -> dict[str, object]:
    async with world.app.state.db.transaction() as session:
        row = (
            (
                await session.execute(
                    text("SELECT * FROM members WHERE id = :id"), {"id": uuid.UUID(member_id)}
                )
            )
            .mappings()
            .one()
        )
        return dict(row)


async def test_bsn_is_never_stored_in_the_clear(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(
        client,
        world,
        members=[{"given_name": "Bram", "role": "parent", "bsn": BSN_1}],
    )
    member = household["members"][0]
    assert member["has_bsn"] is True and member["bsn"] is None  # write answers never carry it
    row = await _raw_member(world, member["id"])
    assert BSN_1 not in repr(row)
    ciphertext = row["bsn_ciphertext"]
    assert isinstance(ciphertext, bytes) and BSN_1.encode() not in ciphertext
    assert row["bsn_index"] and BSN_1 not in str(row["bsn_index"])
    async with world.app.state.db.transaction() as session:
        for table in ("members", "idempotency_keys", "access_log", "case_changes"):
            dump = await session.scalar(text(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t"))
            assert BSN_1 not in str(dump), table


async def test_reveal_only_with_bsn_read(client: httpx.AsyncClient, world: World) -> None:
    await add_worker(world, "bsn_reader", bsn_read=True)
    household = await create_household(
        client, world, members=[{"given_name": "Cor", "role": "parent", "bsn": BSN_2}]
    )
    url = f"/api/v1/households/{household['id']}/members"
    plain = (await client.get(url, headers=await world.headers("generalist_a"))).json()["items"]
    assert plain[0]["bsn"] is None and plain[0]["has_bsn"] is True
    revealed = await client.get(url, headers=await world.headers("bsn_reader"))
    assert revealed.json()["items"][0]["bsn"] == BSN_2
    one = await client.get(f"{url}/{plain[0]['id']}", headers=await world.headers("bsn_reader"))
    assert one.json()["bsn"] == BSN_2
    async with world.app.state.db.transaction() as session:
        purposes = (
            await session.scalars(
                text(
                    "SELECT purpose FROM access_log WHERE household_id = :h AND resource = 'member' "
                    "ORDER BY occurred_at"
                ),
                {"h": uuid.UUID(household["id"])},
            )
        ).all()
    assert purposes.count("casework:bsn_revealed") == 2


async def test_search_by_bsn_in_the_body(client: httpx.AsyncClient, world: World) -> None:
    bsn = "100000009"
    household = await create_household(
        client, world, members=[{"given_name": "Dirk", "role": "parent", "bsn": bsn}]
    )
    found = await client.post(
        "/api/v1/households/search", json={"bsn": bsn}, headers=await world.headers("generalist_a")
    )
    assert [h["id"] for h in found.json()] == [household["id"]]
    other_team = await client.post(
        "/api/v1/households/search", json={"bsn": bsn}, headers=await world.headers("generalist_b")
    )
    assert other_team.json() == []
    async with world.app.state.db.transaction() as session:
        row = (
            await session.execute(
                text(
                    "SELECT household_id, action FROM access_log "
                    "WHERE actor_subject = :s AND action = 'search' ORDER BY occurred_at DESC LIMIT 1"
                ),
                {"s": str(world.people["generalist_a"].user.id)},
            )
        ).one()
    assert str(row[0]) == household["id"]  # the resident's file shows who found it


async def test_bad_bsn_names_field_and_rule_without_echo(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world)
    url = f"/api/v1/households/{household['id']}/members"
    headers = await world.headers("generalist_a")
    for bsn, rule in (("123456789", "bsn_checksum"), ("12345", "bsn_format"), ("abcdefghi", "bsn_format")):
        response = await client.post(
            url, json={"given_name": "Eva", "role": "child", "bsn": bsn}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"loc": ["body", "bsn"], "message": response.json()["errors"][0]["message"], "rule": rule}
        ]
        assert bsn not in response.text
    search = await client.post("/api/v1/households/search", json={"bsn": "123456789"}, headers=headers)
    assert search.status_code == 422 and "123456789" not in search.text
    nested = await client.post(
        "/api/v1/households",
        json={
            "postcode": "1234AB",
            "house_number": 1,
            "buurt_code": world.buurten[0].code,
            "members": [{"given_name": "F", "role": "child", "bsn": "123456789"}],
        },
        headers=headers,
    )
    assert nested.status_code == 422
    assert nested.json()["errors"][0]["loc"] == ["body", "members", 0, "bsn"]


async def test_member_crud_with_if_match(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world)
    url = f"/api/v1/households/{household['id']}/members"
    headers = await world.headers("generalist_a")
    created = await client.post(
        url, json={"given_name": "Gijs", "role": "child", "birth_date": "2015-03-01"}, headers=headers
    )
    assert created.status_code == 201
    member = created.json()
    item = f"{url}/{member['id']}"
    assert (await client.patch(item, json={"given_name": "Guus"}, headers=headers)).status_code == 428
    stale = await client.patch(
        item, json={"given_name": "Guus"}, headers={**headers, "If-Match": f'"{member["id"]}.7"'}
    )
    assert stale.status_code == 412
    updated = await client.patch(
        item,
        json={"given_name": "Guus", "bsn": BSN_1},
        headers={**headers, "If-Match": created.headers["etag"]},
    )
    assert updated.status_code == 200 and updated.json()["given_name"] == "Guus" and updated.json()["has_bsn"]
    cleared = await client.patch(
        item, json={"bsn": None}, headers={**headers, "If-Match": updated.headers["etag"]}
    )
    assert cleared.json()["has_bsn"] is False
    no_name = await client.patch(
        item, json={"given_name": None}, headers={**headers, "If-Match": cleared.headers["etag"]}
    )
    assert no_name.status_code == 422
    future = await client.post(
        url, json={"given_name": "H", "role": "child", "birth_date": "2999-01-01"}, headers=headers
    )
    assert future.status_code == 422 and future.json()["errors"][0]["rule"] == "birth_date_range"
    gone = await client.delete(item, headers={**headers, "If-Match": cleared.headers["etag"]})
    assert gone.status_code == 204
    assert (await client.get(item, headers=headers)).status_code == 404


async def test_contact_moments(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world)
    url = f"/api/v1/households/{household['id']}/contacts"
    headers = await world.headers("generalist_a")
    for day in (3, 1, 2):
        body = {"kind": "phone", "occurred_at": f"2026-02-0{day}T09:00:00Z", "minutes": 10, "note": "Gebeld."}
        assert (await client.post(url, json=body, headers=headers)).status_code == 201
    page = (await client.get(url, params={"limit": 2}, headers=headers)).json()
    assert [c["occurred_at"][:10] for c in page["items"]] == ["2026-02-03", "2026-02-02"]
    rest = (await client.get(url, params={"cursor": page["next_cursor"]}, headers=headers)).json()
    assert [c["occurred_at"][:10] for c in rest["items"]] == ["2026-02-01"] and rest["next_cursor"] is None
    long_note = {"kind": "office", "occurred_at": "2026-02-01T09:00:00Z", "note": "x" * 2001}
    response = await client.post(url, json=long_note, headers=headers)
    assert response.status_code == 422 and "xxxx" not in response.text
    bad_kind = await client.post(
        url, json={"kind": "letter", "occurred_at": "2026-02-01T09:00:00Z"}, headers=headers
    )
    assert bad_kind.status_code == 422
    naive = await client.post(
        url, json={"kind": "phone", "occurred_at": "2026-02-01T09:00:00"}, headers=headers
    )
    assert naive.status_code == 422
    future = await client.post(
        url, json={"kind": "phone", "occurred_at": "2999-02-01T09:00:00Z"}, headers=headers
    )
    assert future.status_code == 422 and future.json()["errors"][0]["rule"] == "occurred_in_future"
