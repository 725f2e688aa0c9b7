"""A world shared by the tests of one module that only read it (building one hashes a dozen passwords)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.factories import World


@pytest.fixture(scope="module")
async def shared_world(app: FastAPI) -> World:
    return await World.create(app)
