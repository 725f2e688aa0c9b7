"""Fixtures of the GraphQL tests: two resident networks on a fresh world."""

from __future__ import annotations

import pytest

from tests.factories import World
from tests.initiatives.factories import Networks, make_networks


@pytest.fixture
async def networks(world: World) -> Networks:
    return await make_networks(world)
