from __future__ import annotations

import httpx
import pytest

from tests.factories import World
from tests.signals.support import Signals


@pytest.fixture
async def signals(world: World, client: httpx.AsyncClient) -> Signals:
    return Signals(world, client)
