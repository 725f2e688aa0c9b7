"""One world per test module (building one hashes a dozen passwords): every test still posts its own
referrals with its own keys and asserts only on those."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import World
from tests.referrals.helpers import Partnering


@pytest.fixture(scope="module")
async def shared_world(app: FastAPI) -> Any:
    return await World.create(app)


@pytest.fixture
async def p(shared_world: World, client: httpx.AsyncClient) -> Partnering:
    return Partnering(shared_world, client)
