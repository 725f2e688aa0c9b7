"""The outbox and the relay against a real HTTP receiver on 127.0.0.1.

Each relay here serves only this module's partner organisations, so deliveries other tests left
behind are never touched.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.db import Database
from app.domain.consents.models import Consent
from app.domain.referrals import service as referrals
from app.domain.referrals.schemas import TransitionCreate
from app.domain.unit_of_work.work import unit_of_work
from app.domain.webhooks import outbox
from app.domain.webhooks import service as webhooks
from app.domain.webhooks.models import WebhookDelivery, WebhookEvent
from app.domain.webhooks.relay import Relay, RelayConfig, run_relay
from app.domain.webhooks.rules import RetryPolicy
from app.domain.webhooks.schemas import SubscriptionCreate
from app.domain.webhooks.signing import SecretBox
from app.domain.webhooks.targets import TargetPolicy
from app.settings import Settings
from tests.referrals.helpers import Partnering
from tests.webhooks.receiver import Receiver, free_port
from tests.webhooks.support import subscribe

LATER = datetime.now(UTC) + timedelta(days=30)  # treat every scheduled retry as due


@pytest.fixture
def loopback(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private_targets": True})


@pytest.fixture
def allow_loopback(p: Partnering, loopback: Settings) -> Iterator[None]:
    """The development setting that lets subscriptions point at 127.0.0.1, for this test only."""
    state = p.world.app.state
    original = state.settings
    state.settings = loopback
    try:
        yield
    finally:
        state.settings = original


def relay_for(p: Partnering, settings: Settings, db: Database | None = None, **config: Any) -> Relay:
    organisations = frozenset(o.id for o in p.world.organisations.values())
    return Relay(
        db or p.world.app.state.db,
        settings,
        RelayConfig(organisation_ids=organisations, **config),
    )


@pytest.fixture
async def relay(p: Partnering, loopback: Settings) -> AsyncIterator[Relay]:
    relay = relay_for(p, loopback)
    yield relay
    await relay.aclose()


async def deliveries(
    p: Partnering, subscription: dict[str, Any], partner: str = "partner_a"
) -> list[dict[str, Any]]:
    response = await p.get(f"/api/v1/webhooks/{subscription['id']}/deliveries", partner, limit=100)
    assert response.status_code == 200
    return list(response.json()["items"])


async def test_loopback_targets_need_the_development_setting(p: Partnering) -> None:
    refused = await p.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["referral.accepted"]},
        headers=await p.world.headers("partner_a"),
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {
        "loc": ["body", "url"],
        "message": "The host resolves to a private or otherwise special address.",
        "rule": "url_address_forbidden",
    }


@pytest.mark.usefixtures("allow_loopback")
async def test_events_are_delivered_signed_thin_and_listed(p: Partnering, relay: Relay) -> None:
    with Receiver() as receiver:
        subscription = await subscribe(p, receiver.url())
        assert subscription["secret"].startswith("whsec_")
        assert "secret" not in (await p.get(f"/api/v1/webhooks/{subscription['id']}", "partner_a")).json()
        referral = await p.inbound("partner_a")
        await relay.drain()

        [request] = receiver.received
        payload = Webhook(subscription["secret"]).verify(request.body, request.headers)
        assert payload["type"] == "referral.submitted"
        assert payload["data"]["referral_id"] == referral["id"]
        assert set(payload["data"]) == {"referral_id", "direction", "status", "occurred_at"}
        assert "Sanne" not in request.body.decode() and "Jansen" not in request.body.decode()
        assert request.headers["webhook-id"].startswith("msg_")
        assert request.headers["content-type"] == "application/json"
        with pytest.raises(WebhookVerificationError):
            Webhook(subscription["secret"]).verify(
                request.body.replace(b"submitted", b"completed"), request.headers
            )

    [delivery] = await deliveries(p, subscription)
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 1
    detail = await p.get(f"/api/v1/webhooks/{subscription['id']}/deliveries/{delivery['id']}", "partner_a")
    assert detail.json()["payload"] == payload
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in detail.json()["attempt_log"]] == [
        (1, 204, True)
    ]


@pytest.mark.usefixtures("allow_loopback")
async def test_a_receiver_that_is_down_gets_the_event_later(p: Partnering, relay: Relay) -> None:
    port = free_port()
    subscription = await subscribe(p, f"http://127.0.0.1:{port}/hooks")
    referral = await p.inbound("partner_a")
    assert await relay.drain() == 1
    [waiting] = await deliveries(p, subscription)
    assert waiting["status"] == "pending" and waiting["attempts"] == 1
    assert waiting["last_error"] == "connect_error"
    assert datetime.fromisoformat(waiting["next_attempt_at"]) > datetime.fromisoformat(
        waiting["last_attempt_at"]
    )
    assert await relay.drain() == 0  # not due yet: backoff

    with Receiver(port) as receiver:
        await relay.drain(due_by=LATER)
        assert len(receiver.received) == 1
        payload = Webhook(subscription["secret"]).verify(
            receiver.received[0].body, receiver.received[0].headers
        )
        assert payload["data"]["referral_id"] == referral["id"]
    [done] = await deliveries(p, subscription)
    assert done["status"] == "succeeded" and done["attempts"] == 2


@pytest.mark.usefixtures("allow_loopback")
async def test_failures_end_in_the_dead_letter_state_and_can_be_sent_again(
    p: Partnering, loopback: Settings
) -> None:
    relay = relay_for(p, loopback, retry=RetryPolicy(max_attempts=3))
    try:
        with Receiver(default=500) as receiver:
            subscription = await subscribe(p, receiver.url())
            await p.inbound("partner_a")
            for _ in range(5):
                await relay.drain(due_by=LATER)
            assert len(receiver.received) == 3
            assert len(set(receiver.ids())) == 1  # one message, retried under the same webhook-id
            [dead] = await deliveries(p, subscription)
            assert (
                dead["status"] == "dead"
                and dead["last_status_code"] == 500
                and dead["last_error"] == "http_status"
            )

            receiver.default = 204
            path = f"/api/v1/webhooks/{subscription['id']}/deliveries/{dead['id']}/redeliver"
            again = await p.client.post(path, headers=await p.world.headers("partner_a"))
            assert again.status_code == 200 and again.json()["status"] == "pending"
            await relay.drain()
            assert len(receiver.received) == 4
            twice = await p.client.post(path, headers=await p.world.headers("partner_a"))
            assert twice.status_code == 409
        [done] = await deliveries(p, subscription)
        assert done["status"] == "succeeded"
    finally:
        await relay.aclose()


@pytest.mark.usefixtures("allow_loopback")
async def test_redirects_are_not_followed(p: Partnering, relay: Relay) -> None:
    with Receiver(default=302) as receiver:
        subscription = await subscribe(p, receiver.url("/start"))
        await p.inbound("partner_a")
        await relay.drain()
        assert [r.path for r in receiver.received] == ["/start"]
    [delivery] = await deliveries(p, subscription)
    assert delivery["status"] == "pending" and delivery["last_status_code"] == 302


@pytest.mark.usefixtures("allow_loopback")
async def test_two_relays_at_once_deliver_each_event_once(
    p: Partnering, loopback: Settings, migrated: str
) -> None:
    other_db = Database(migrated, loopback)  # a second process's engine: its own connections
    first = relay_for(p, loopback, batch_size=4)
    second = relay_for(p, loopback, db=other_db, batch_size=4)
    try:
        with Receiver(delay=0.02) as receiver:
            subscription = await subscribe(p, receiver.url(), partner="partner_b")
            ids = [(await p.inbound("partner_b", buurt_index=2))["id"] for _ in range(24)]
            claimed = await asyncio.gather(first.drain(), second.drain())
            assert sum(claimed) == 24
            assert min(claimed) > 0  # both really took part
            counts = Counter(receiver.ids())
            assert len(counts) == 24 and set(counts.values()) == {1}
            referral_ids = {json.loads(r.body)["data"]["referral_id"] for r in receiver.received}
            assert referral_ids == set(ids)
        assert {d["status"] for d in await deliveries(p, subscription, "partner_b")} == {"succeeded"}
    finally:
        await first.aclose()
        await second.aclose()
        await other_db.dispose()


async def test_a_rolled_back_transaction_leaves_no_outbox_event(p: Partnering) -> None:
    referral = await p.inbound("partner_a")
    principal = await p.world.app.state.token_verifier.verify(await p.world.token("generalist_a"))
    home = await p.household()
    before = await p.events_of(referral["id"])

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon):
        async with unit_of_work(p.world.app.state.db, p.world.app.state.wiring) as uow:
            moved = await referrals.transition(
                uow,
                principal,
                uuid.UUID(referral["id"]),
                TransitionCreate(status="accepted", household_id=home.id),
            )
            assert moved.status == "accepted"
            assert await p.events_of(referral["id"]) == before  # not visible outside the transaction
            raise Abandon
    assert await p.events_of(referral["id"]) == before == ["referral.submitted"]
    assert (await p.get(f"/api/v1/referrals/{referral['id']}", "partner_a")).json()["status"] == "submitted"


@pytest.mark.usefixtures("allow_loopback")
async def test_withdrawn_consent_stops_waiting_deliveries(p: Partnering, relay: Relay) -> None:
    with Receiver() as receiver:
        subscription = await subscribe(p, receiver.url())
        home = await p.household()
        consent = await p.consent(home)
        referral = await p.outbound(home)
        withdrawn = await p.client.post(
            f"/api/v1/households/{home.id}/consents/{consent['id']}/withdraw",
            headers=await p.world.headers("generalist_a"),
        )
        assert withdrawn.status_code == 200
        await relay.drain()
        assert receiver.received == []
    [delivery] = await deliveries(p, subscription)
    assert delivery["status"] == "cancelled" and delivery["last_error"] == "consent_withdrawn"
    assert await p.events_of(referral["id"]) == ["referral.submitted"]


@pytest.mark.usefixtures("allow_loopback")
async def test_the_relay_rechecks_the_consent_before_sending(p: Partnering, relay: Relay) -> None:
    with Receiver() as receiver:
        await subscribe(p, receiver.url())
        home = await p.household()
        consent = await p.consent(home)
        await p.outbound(home)
        # The consent lapses without the withdrawal route (its period ended): only the relay can notice.
        async with p.world.app.state.db.transaction() as session:
            await session.execute(
                update(Consent)
                .where(col(Consent.id) == uuid.UUID(consent["id"]))
                .values(
                    valid_from=datetime.now(UTC).date() - timedelta(days=9),
                    valid_until=datetime.now(UTC).date() - timedelta(days=2),
                )
            )
        await relay.drain()
        assert receiver.received == []
    async with p.world.app.state.db.transaction() as session:
        statuses = (
            await session.execute(
                select(col(WebhookDelivery.status), col(WebhookDelivery.last_error))
                .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
                .where(col(WebhookEvent.consent_id) == uuid.UUID(consent["id"]))
            )
        ).all()
    assert statuses == [("cancelled", "consent_withdrawn")]


@pytest.mark.usefixtures("allow_loopback")
async def test_rotation_signs_with_both_secrets_until_the_overlap_ends(p: Partnering, relay: Relay) -> None:
    with Receiver() as receiver:
        subscription = await subscribe(p, receiver.url())
        rotated = await p.client.post(
            f"/api/v1/webhooks/{subscription['id']}/rotate-secret",
            json={"overlap_hours": 1},
            headers=await p.world.headers("partner_a"),
        )
        assert rotated.status_code == 200
        new_secret = rotated.json()["secret"]
        assert new_secret != subscription["secret"]
        await p.inbound("partner_a")
        await relay.drain()
        [request] = receiver.received
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        Webhook(subscription["secret"]).verify(request.body, request.headers)
        Webhook(new_secret).verify(request.body, request.headers)

        ended = await p.client.post(
            f"/api/v1/webhooks/{subscription['id']}/rotate-secret",
            json={"overlap_hours": 0},
            headers=await p.world.headers("partner_a"),
        )
        newest = ended.json()["secret"]
        await p.inbound("partner_a")
        await relay.drain()
        latest = receiver.received[-1]
        assert len(latest.headers["webhook-signature"].split(" ")) == 1
        Webhook(newest).verify(latest.body, latest.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret).verify(latest.body, latest.headers)


async def test_delivery_rechecks_dns_and_connects_to_the_checked_address(
    p: Partnering, loopback: Settings
) -> None:
    """DNS rebinding: the name was public at registration and points at loopback at delivery."""

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    async def rebound(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    principal = await p.world.app.state.token_verifier.verify(await p.world.token("partner_a"))
    with Receiver() as receiver:
        async with unit_of_work(p.world.app.state.db, p.world.app.state.wiring) as uow:
            created = await webhooks.create(
                uow,
                principal,
                SubscriptionCreate(
                    url=f"http://hooks.partner.invalid:{receiver.port}/in", event_types=["referral.submitted"]
                ),
                box=SecretBox(loopback.secret("secret_key")),
                policy=TargetPolicy(require_https=False, allow_private=False),
                resolver=public,
            )
        await p.inbound("partner_a")
        organisations = frozenset(o.id for o in p.world.organisations.values())
        strict = p.world.app.state.settings  # loopback not allowed
        guarded = Relay(
            p.world.app.state.db, strict, RelayConfig(organisation_ids=organisations), resolver=rebound
        )
        pinned = Relay(
            p.world.app.state.db, loopback, RelayConfig(organisation_ids=organisations), resolver=rebound
        )
        try:
            await guarded.drain()
            assert receiver.received == []
            # With loopback allowed (development), the same name reaches our receiver: the relay
            # connected to the address it checked (the name itself resolves nowhere).
            await pinned.drain(due_by=LATER)
            [request] = receiver.received
            assert request.headers["host"] == f"hooks.partner.invalid:{receiver.port}"
        finally:
            await guarded.aclose()
            await pinned.aclose()
    [delivery] = await deliveries(p, created.model_dump(mode="json"))
    detail = await p.get(f"/api/v1/webhooks/{created.id}/deliveries/{delivery['id']}", "partner_a")
    attempts = [(a["number"], a["status_code"], a["error"]) for a in detail.json()["attempt_log"]]
    assert attempts == [(1, None, "url_address_forbidden"), (2, 204, None)]  # refused before connecting


@pytest.mark.usefixtures("allow_loopback")
async def test_pausing_a_subscription_cancels_what_waits(p: Partnering) -> None:
    subscription = await subscribe(p, f"http://127.0.0.1:{free_port()}/hooks")
    await p.inbound("partner_a")
    paused = await p.client.patch(
        f"/api/v1/webhooks/{subscription['id']}",
        json={"active": False},
        headers=await p.world.headers("partner_a"),
    )
    assert paused.status_code == 200 and paused.json()["active"] is False
    [delivery] = await deliveries(p, subscription)
    assert delivery["status"] == "cancelled"
    await p.inbound("partner_a")
    assert len(await deliveries(p, subscription)) == 1  # nothing queued while paused


@pytest.mark.usefixtures("allow_loopback")
async def test_the_relay_command_entry_point_delivers_what_is_due(
    p: Partnering, loopback: Settings, migrated: str
) -> None:
    organisations = frozenset(o.id for o in p.world.organisations.values())
    with Receiver() as receiver:
        await subscribe(p, receiver.url())
        await p.inbound("partner_a")
        tally = await run_relay(
            loopback, migrated, once=True, config=RelayConfig(organisation_ids=organisations)
        )
        assert tally.delivered == 1 and len(receiver.received) == 1
        stop = asyncio.Event()
        loop_task = asyncio.create_task(
            run_relay(
                loopback,
                migrated,
                stop=stop,
                config=RelayConfig(organisation_ids=organisations, idle_interval=0.05),
            )
        )
        await p.inbound("partner_a")
        for _ in range(200):
            if len(receiver.received) == 2:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(loop_task, 10)
        assert len(receiver.received) == 2


@pytest.mark.usefixtures("allow_loopback")
async def test_retention_purges_old_finished_events_but_never_waiting_ones(p: Partnering) -> None:
    finished = await p.inbound("partner_b", buurt_index=2)  # partner B has no subscription: nothing to send
    await subscribe(p, f"http://127.0.0.1:{free_port()}/hooks")  # partner A's receiver is down
    waiting = await p.inbound("partner_a")
    async with p.world.app.state.db.transaction() as session:
        await session.execute(
            update(WebhookEvent)
            .where(col(WebhookEvent.referral_id).in_([uuid.UUID(finished["id"]), uuid.UUID(waiting["id"])]))
            .values(created_at=datetime.now(UTC) - timedelta(days=400))
        )
    async with p.world.app.state.db.transaction() as session:
        assert await outbox.purge_finished(session, older_than=timedelta(days=365)) >= 1
    assert await p.events_of(finished["id"]) == []
    assert await p.events_of(waiting["id"]) == ["referral.submitted"]
