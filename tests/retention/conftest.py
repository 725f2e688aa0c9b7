"""One world per module (building one hashes a dozen passwords); each test makes its own rows and
asserts on those. The purge works on the whole test database, so tests that compare counts first run
a purge to start from nothing due."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from tests.factories import World
from tests.retention.support import Estate


@pytest.fixture(scope="module")
async def shared_world(app: FastAPI) -> World:
    return await World.create(app)


@pytest.fixture
async def estate(shared_world: World, client: httpx.AsyncClient, settings: Settings) -> Estate:
    return Estate(shared_world, client, settings)
