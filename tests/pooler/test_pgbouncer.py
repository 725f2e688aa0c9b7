"""The smoke set of the suite through a real PgBouncer in transaction mode: a token, a case written
and read, a keyed (Idempotency-Key) write and its replay, the sync page, a GraphQL query, the hot
raw-statement reads, and many requests at once on four server connections. Nothing relies on
session state: the statement timeout is the database's, not the connection's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.cli_support import direct_database
from app.db import Database
from app.settings import DatabasePooler, Settings
from tests.auth.helpers import TOKEN_URL, basic
from tests.factories import World
from tests.households.support import create_household

NEIGHBOURHOODS = "query($m: String) { neighbourhoods(municipality: $m) { code } }"


@pytest.fixture
async def http(pooled_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=pooled_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def world(pooled_app: FastAPI) -> World:
    return await World.create(pooled_app)


async def test_the_app_reads_through_the_pooler_with_the_databases_timeout(
    pooled_app: FastAPI, database_timeout: str
) -> None:
    db: Database = pooled_app.state.db
    assert db.pooled and db.engine.url.port != 5432 and db.engine.url.host == "127.0.0.1"
    async with db.transaction() as session:
        assert await session.scalar(text("SHOW statement_timeout")) == database_timeout
    async with db.reading() as session:
        assert await session.scalar(text("SELECT 1")) == 1


async def test_a_token_and_a_graphql_query(http: httpx.AsyncClient, world: World) -> None:
    token = await http.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers=basic(world.clients["analyst"].client_id, world.secrets["analyst"]),
    )
    assert token.status_code == 200, token.text
    answer = await http.post(
        "/graphql", json={"query": NEIGHBOURHOODS, "variables": {"m": world.municipality.code}}
    )
    assert answer.status_code == 200, answer.text
    codes = sorted(n["code"] for n in answer.json()["data"]["neighbourhoods"])
    assert codes == sorted(b.code for b in world.buurten)


async def test_a_case_written_read_keyed_and_synced(http: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("generalist_a")
    household = await create_household(http, world)
    url = f"/api/v1/households/{household['id']}"
    file = await http.get(url, headers=headers)
    assert file.status_code == 200, file.text
    changed = await http.patch(
        url, json={"house_number_addition": "A"}, headers={**headers, "If-Match": file.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text

    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"kind": "phone", "occurred_at": "2026-01-01T10:00:00Z", "minutes": 10}
    first = await http.post(f"{url}/contacts", json=body, headers=keyed)
    again = await http.post(f"{url}/contacts", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"

    page = await http.get("/api/v1/sync", headers=headers)
    assert page.status_code == 200, page.text
    assert household["id"] in page.text

    listed = await http.get("/api/v1/households", headers=headers)  # a hot raw-statement read
    assert listed.status_code == 200 and household["id"] in listed.text


async def test_many_requests_take_turns_on_four_server_connections(
    http: httpx.AsyncClient, world: World
) -> None:
    headers = await world.headers("generalist_a")
    household = await create_household(http, world)
    url = f"/api/v1/households/{household['id']}"

    async def read() -> int:
        return (await http.get(url, headers=headers)).status_code

    async def write(n: int) -> int:
        body = {"kind": "phone", "occurred_at": f"2026-01-{n % 28 + 1:02d}T10:00:00Z", "minutes": 5}
        return (await http.post(f"{url}/contacts", json=body, headers=headers)).status_code

    statuses = await asyncio.gather(*(read() for _ in range(30)), *(write(n) for n in range(20)))
    assert statuses.count(200) == 30 and statuses.count(201) == 20, statuses


def test_migrations_and_jobs_take_the_direct_connection(settings: Settings) -> None:
    """DDL, the partition jobs and the purge's session lock go to WIJKWERK_MIGRATION_DATABASE_URL,
    connected as without a pooler; without that setting, to the one database URL."""
    pooled = settings.model_copy(
        update={
            "database_pooler": DatabasePooler.transaction,
            "migration_database_url": "postgresql://direct/db",
        }
    )
    url, direct = direct_database("postgresql://pooler/db", pooled)
    assert url == "postgresql://direct/db" and direct.database_pooler is DatabasePooler.none
    alone = settings.model_copy(update={"database_pooler": DatabasePooler.transaction})
    assert direct_database("postgresql://pooler/db", alone) == ("postgresql://pooler/db", alone)
