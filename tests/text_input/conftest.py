"""Resident networks on the test's own world, for the GraphQL inputs."""

from __future__ import annotations

import pytest

from tests.factories import World
from tests.initiatives.factories import Networks, make_networks


@pytest.fixture
async def networks(world: World) -> Networks:
    return await make_networks(world)
