"""PostgreSQL goes away and comes back: 503 problem+json with Retry-After meanwhile, then business as usual.

This runs on a PostgreSQL server of its own (never the shared test server), which the test stops and
starts again for real.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db import Database
from app.embedded import start_embedded_postgres
from app.main import create_app
from app.migrations import upgrade
from app.settings import Settings
from tests.factories import World

pytestmark = pytest.mark.slow

AUTHENTICATED_ROUTE = "/api/v1/areas"


@pytest.fixture(scope="module")
def own_server() -> Iterator[tuple[str, Any]]:
    # Under /tmp rather than pytest's tmp_path: the server runs as its own system user, which must be
    # able to reach the folder (pytest's base folder is private to the current user).
    data_dir = Path(tempfile.mkdtemp(prefix="wijkwerk-outage-"))
    url, server = start_embedded_postgres(data_dir, "outage")
    try:
        yield url, server
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["type"] == "urn:wijkwerk:problem:service_unavailable"
    assert body["status"] == 503
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text and "asyncpg" not in response.text


async def migrate(url: str, settings: Settings) -> None:
    db = Database(url, settings)
    await upgrade(db.engine)
    await db.dispose()


async def test_requests_get_503_while_postgres_is_down_and_succeed_after(
    own_server: tuple[str, Any], settings: Settings
) -> None:
    url, server = own_server
    await migrate(url, settings)

    app = create_app(settings, database_url=url)
    async with running(app) as http:
        world = await World.create(app)
        headers = await world.headers("admin")
        assert (await http.get(AUTHENTICATED_ROUTE, headers=headers)).status_code == 200
        assert (await http.get("/readyz")).status_code == 200

        await asyncio.to_thread(server.stop)
        try:
            for _ in range(2):  # the pool's dead connections, then a failing reconnect
                assert_unavailable(await http.get(AUTHENTICATED_ROUTE, headers=headers))
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["database"] == "unreachable"
            assert "retry-after" in ready.headers
            assert (await http.get("/healthz")).status_code == 200  # alive, just not ready

            # A process that starts during the outage has no signing keys cached yet: still a 503.
            async with running(create_app(settings, database_url=url)) as fresh:
                assert_unavailable(await fresh.get(AUTHENTICATED_ROUTE, headers=headers))
        finally:
            await asyncio.to_thread(server.ensure_postgres_running)

        assert (await http.get(AUTHENTICATED_ROUTE, headers=headers)).status_code == 200
        assert (await http.get("/readyz")).status_code == 200
        metrics = (await http.get("/metrics")).text
        assert f'route="{AUTHENTICATED_ROUTE}",status="503"' in metrics


GRAPHQL = {"query": "query Dashboard { themes { code } neighbourhoods(first: 5) { code name } }"}


async def test_graphql_answers_the_same_503_during_the_outage(
    own_server: tuple[str, Any], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not 200 with "Unexpected error." in place of the data: the alert on 503s sees GraphQL too."""
    url, server = own_server
    await migrate(url, settings)

    app = create_app(settings, database_url=url)
    async with running(app) as http:
        world = await World.create(app)
        headers = await world.headers("resident")
        for caller in ({}, headers):
            answered = await http.post("/graphql", json=GRAPHQL, headers=caller)
            assert answered.status_code == 200 and "errors" not in answered.json()

        await asyncio.to_thread(server.stop)
        capsys.readouterr()
        try:
            for caller in ({}, {}, headers):  # the pool's dead connections, a failing reconnect, a member
                assert_unavailable(await http.post("/graphql", json=GRAPHQL, headers=caller))
        finally:
            await asyncio.to_thread(server.ensure_postgres_running)
        logged = capsys.readouterr().out
        assert '"database unavailable"' in logged and '"level": "ERROR"' not in logged

        answered = await http.post("/graphql", json=GRAPHQL, headers=headers)
        assert answered.status_code == 200 and "errors" not in answered.json()
        assert 'route="/graphql",status="503"' in (await http.get("/metrics")).text
