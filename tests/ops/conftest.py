"""A probe app: the real create_app() plus a few routes that misbehave on purpose (tests only)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from app.api.auth import Admin
from app.api.deps import UoW
from app.main import create_app
from app.settings import Settings
from app.web.unit_of_work import WorkRoute

LEAKY_MESSAGE = "BSN 123456782 of Jan Jansen"


def add_probe_routes(app: FastAPI) -> None:
    # A work route, as every router whose routes take ``UoW`` must be (the unit of work is ended by it).
    probes = APIRouter(route_class=WorkRoute)

    @probes.get("/probe/items/{item_id}")
    async def probe_item(
        item_id: str, principal: Admin, name: str | None = None, bsn: str | None = None
    ) -> dict[str, str]:  # query parameters that must never reach a log
        return {"ok": "yes"}

    @probes.get("/probe/boom")
    async def probe_boom() -> None:
        raise RuntimeError(LEAKY_MESSAGE)

    @probes.post("/probe/echo")
    async def probe_echo(body: dict[str, str]) -> dict[str, str]:
        return body

    @probes.get("/probe/slow")
    async def probe_slow(uow: UoW) -> None:
        await uow.session.execute(text("SET LOCAL statement_timeout = 50"))
        await uow.session.execute(text("SELECT pg_sleep(2)"))

    @probes.get("/probe/db-error")
    async def probe_db_error(uow: UoW) -> None:
        await uow.session.execute(text("SELECT 1 / 0"))

    app.include_router(probes)


@pytest.fixture(scope="module")
async def probe_app(migrated: str, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database_url=migrated)
    add_probe_routes(application)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def probe(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
