"""The sync page goes out pre-serialised: its bytes match ``SyncPage``, its documents the entities'
read models, and a page of changes costs the same statements however many changes it holds."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import TypeAdapter

from app.domain.households.schemas import ContactRead, HouseholdRead
from app.domain.sync.schemas import SyncPage
from tests.factories import World
from tests.households.support import create_household, settle
from tests.support.statements import counting_statements

PAGE = TypeAdapter(SyncPage)
READ: dict[str, TypeAdapter[Any]] = {
    "household": TypeAdapter(HouseholdRead),
    "contact_moment": TypeAdapter(ContactRead),
}


async def _cursor_at_end(client: httpx.AsyncClient, world: World, headers: dict[str, str]) -> str:
    cursor = None
    while True:
        params: dict[str, str] = {"cursor": cursor} if cursor else {}
        page = (await client.get("/api/v1/sync", params=params, headers=headers)).json()
        cursor = page["cursor"]
        if not page["has_more"]:
            return str(cursor)


async def _changes_page(
    client: httpx.AsyncClient, world: World, headers: dict[str, str], cursor: str
) -> tuple[SyncPage, int]:
    await settle(world)
    with counting_statements(world.app.state.db) as statements:
        response = await client.get("/api/v1/sync", params={"cursor": cursor}, headers=headers)
    assert response.status_code == 200, response.text
    return PAGE.validate_json(response.content), len(statements)


async def test_a_page_of_changes_matches_the_model_in_constant_statements(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await world.headers("generalist_a")
    household = await create_household(client, world)
    await settle(world)
    start = await _cursor_at_end(client, world, headers)
    counts = []
    for contacts in (1, 9):
        for i in range(contacts):
            response = await client.post(
                f"/api/v1/households/{household['id']}/contacts",
                json={"kind": "phone", "occurred_at": f"2026-01-01T10:{i:02d}:00Z", "note": f"n{i}"},
                headers=headers,
            )
            assert response.status_code == 201
        page, statements = await _changes_page(client, world, headers, start)
        counts.append(statements)
        mine = [u for u in page.upserts if u.household_id.hex == household["id"].replace("-", "")]
        assert len([u for u in mine if u.entity == "contact_moment"]) >= contacts
        for upsert in mine:  # each document is its entity's read model, as JSON
            if upsert.entity in READ:
                READ[upsert.entity].validate_python(upsert.data)
    assert counts[0] == counts[1]
