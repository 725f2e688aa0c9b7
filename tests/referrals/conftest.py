"""Every test makes its own households and referrals, as the people and partners of its own world."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import World
from tests.referrals.helpers import Partnering


@pytest.fixture
async def p(world: World, client: httpx.AsyncClient) -> Partnering:
    return Partnering(world, client)
