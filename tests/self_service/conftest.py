"""Fixtures of the self-service tests: a household of team A with a plan, and Anna's account."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import World
from tests.self_service.support import Home, Signed, account, make_home


@pytest.fixture
async def home(world: World, client: httpx.AsyncClient) -> Home:
    return await make_home(world, client)


@pytest.fixture
async def anna(world: World, home: Home) -> Signed:
    return await account(world, home, "Anna")
