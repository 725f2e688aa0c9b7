"""The webhook queue in /metrics: read from the database at scrape time (counts and the oldest due
delivery's wait), free of partner ids and URLs, and skipped, not failed, when the database is down."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import col

from app.db import Database
from app.domain.webhooks.models import WebhookDelivery
from app.settings import Settings
from tests.factories import World
from tests.referrals.helpers import Partnering
from tests.webhooks.support import subscribe

GAUGE = re.compile(r'^wijkwerk_webhook_deliveries\{state="(\w+)"\} (\S+)$', re.MULTILINE)
OLDEST = re.compile(r"^wijkwerk_webhook_oldest_due_seconds (\S+)$", re.MULTILINE)


@pytest.fixture
def loopback_targets(app: FastAPI, settings: Settings) -> Iterator[None]:
    """The development setting that lets a subscription point at 127.0.0.1, for this test only."""
    original = app.state.settings
    app.state.settings = settings.model_copy(update={"webhook_allow_private_targets": True})
    try:
        yield
    finally:
        app.state.settings = original


async def scrape(client: httpx.AsyncClient) -> tuple[str, dict[str, float], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    oldest = OLDEST.search(response.text)
    assert oldest is not None, response.text
    return response.text, {s: float(n) for s, n in GAUGE.findall(response.text)}, float(oldest[1])


@pytest.mark.usefixtures("loopback_targets")
async def test_a_queued_delivery_shows_without_partner_details(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    p = Partnering(world, client)
    _, before, _ = await scrape(client)
    subscription = await subscribe(p, "http://127.0.0.1:9/hooks")
    await p.inbound("partner_a")  # an inbound referral: one delivery for the subscription, due now
    async with app.state.db.transaction() as session:  # it has waited an hour: the relay is down
        await session.execute(
            sa.update(WebhookDelivery)
            .where(col(WebhookDelivery.subscription_id) == subscription["id"])
            .values(next_attempt_at=sa.func.now() - timedelta(hours=1))
        )

    text, after, oldest = await scrape(client)
    assert after["pending"] - before["pending"] == 1 and after["due"] - before["due"] == 1
    assert after["dead"] == before["dead"]
    assert oldest >= 3600
    for secret in (
        subscription["id"],
        "127.0.0.1:9",
        str(world.organisations["a"].id),
        world.clients["partner_a"].client_id,
    ):
        assert secret not in text


async def test_the_scrape_answers_without_the_queue_when_the_database_is_down(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    original = app.state.db
    app.state.db = Database("postgresql://nobody@127.0.0.1:9/none", settings)  # nothing listens
    try:
        response = await client.get("/metrics")
    finally:
        await app.state.db.dispose()
        app.state.db = original
    assert response.status_code == 200
    assert "http_requests_total" in response.text
    assert "wijkwerk_webhook" not in response.text
    assert OLDEST.search((await client.get("/metrics")).text) is not None  # back with the database
