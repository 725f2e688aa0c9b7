"""One world per test module (building one hashes a dozen passwords): every test still makes its own
households, referrals and subscriptions and asserts only on those."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from sqlmodel import col

from app.domain.webhooks.models import WebhookSubscription
from tests.factories import World
from tests.referrals.helpers import Partnering


@pytest.fixture(scope="module")
async def shared_world(app: FastAPI) -> Any:
    return await World.create(app)


@pytest.fixture
async def p(shared_world: World, client: httpx.AsyncClient) -> Partnering:
    return Partnering(shared_world, client)


@pytest.fixture(autouse=True)
async def _fresh_subscriptions(shared_world: World) -> AsyncIterator[None]:
    """Tests share the module's partners, so each starts and ends without their subscriptions."""
    await _drop_subscriptions(shared_world)
    yield
    await _drop_subscriptions(shared_world)


async def _drop_subscriptions(world: World) -> None:
    organisations = [o.id for o in world.organisations.values()]
    async with world.app.state.db.transaction() as session:
        await session.execute(
            delete(WebhookSubscription).where(col(WebhookSubscription.organisation_id).in_(organisations))
        )
