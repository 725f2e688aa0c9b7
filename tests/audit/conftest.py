"""A world shared by the tests of one module (making people hashes passwords, which is slow); tests
still only assert on the households they make themselves."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI


@pytest.fixture(scope="module")
async def shared(app: FastAPI) -> Any:
    from tests.factories import World

    return await World.create(app)
