"""Each test makes its own rows in its own world and asserts on those. The purge works on the whole
test database, so tests that compare counts first run a purge to start from nothing due."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings
from tests.factories import World
from tests.retention.support import Estate


@pytest.fixture
async def estate(world: World, client: httpx.AsyncClient, settings: Settings) -> Estate:
    return Estate(world, client, settings)
