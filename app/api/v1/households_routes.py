"""Every router of the household case file, the sync and the privacy officer's audit, as one.

Its lifespan (nested in the app's, after the database is up) opens the pool of the hot reads
(``repository.HotReads``: the overview and the household list, one statement per request) as
``app.state.hot_reads``, and closes it on shutdown.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from app.api.v1 import audit, households, households_contacts, households_members, households_team, sync
from app.domain.households.repository import HotReads


@asynccontextmanager
async def hot_reads_pool(app: FastAPI) -> AsyncIterator[None]:
    app.state.hot_reads = await HotReads.open(app.state.db.engine, app.state.settings)
    try:
        yield
    finally:
        await app.state.hot_reads.close()


router = APIRouter(lifespan=hot_reads_pool)
for module in (households, households_members, households_contacts, households_team, sync, audit):
    router.include_router(module.router)
