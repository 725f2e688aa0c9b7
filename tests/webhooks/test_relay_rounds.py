"""What one relay round shares and keeps in order: one referral's events reach a receiver oldest
first, and each target URL is resolved and checked once per round, right before its sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from app.domain.unit_of_work.work import unit_of_work
from app.domain.webhooks import service as webhooks
from app.domain.webhooks.relay import Relay, RelayConfig
from app.domain.webhooks.schemas import SubscriptionCreate
from app.domain.webhooks.signing import SecretBox
from app.domain.webhooks.targets import TargetPolicy
from app.settings import Settings
from tests.referrals.helpers import Partnering
from tests.webhooks.receiver import Receiver


@pytest.fixture
def loopback(p: Partnering, settings: Settings) -> Iterator[Settings]:
    """The development setting that lets subscriptions point at 127.0.0.1, for this test only."""
    allowed = settings.model_copy(update={"webhook_allow_private_targets": True})
    state = p.world.app.state
    original, state.settings = state.settings, allowed
    try:
        yield allowed
    finally:
        state.settings = original


@pytest.fixture
async def relay(p: Partnering, loopback: Settings) -> AsyncIterator[Relay]:
    organisations = frozenset(o.id for o in p.world.organisations.values())
    relay = Relay(p.world.app.state.db, loopback, RelayConfig(organisation_ids=organisations))
    yield relay
    await relay.aclose()


async def test_one_referrals_events_arrive_oldest_first(p: Partnering, relay: Relay) -> None:
    with Receiver(delay=0.01) as receiver:  # slow enough that concurrent sends would overtake
        body = {
            "url": receiver.url(),
            "event_types": ["referral.submitted", "referral.accepted", "referral.message"],
        }
        created = await p.client.post(
            "/api/v1/webhooks", json=body, headers=await p.world.headers("partner_a")
        )
        assert created.status_code == 201, created.text
        referral = await p.inbound("partner_a")
        new_household = {"postcode": "1234AB", "house_number": 9}
        accepted = await p.move(referral["id"], "generalist_a", "accepted", new_household=new_household)
        assert accepted.status_code == 200, accepted.text
        for text in ("Welkom.", "Afspraak dinsdag.", "Tot dan."):
            sent = await p.client.post(
                f"/api/v1/referrals/{referral['id']}/messages",
                json={"body": text},
                headers=await p.world.headers("partner_a"),
            )
            assert sent.status_code == 201
        other = await p.inbound("partner_a")
        assert await relay.run_once() == 6  # all in one round
        mine = [json.loads(r.body) for r in receiver.received]
    order = [e["type"] for e in mine if e["data"]["referral_id"] == referral["id"]]
    assert order == ["referral.submitted", "referral.accepted"] + ["referral.message"] * 3
    assert [e["data"]["referral_id"] for e in mine].count(other["id"]) == 1


async def test_a_target_is_checked_once_per_round_right_before_its_sends(
    p: Partnering, loopback: Settings
) -> None:
    lookups: list[str] = []

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    principal = await p.world.app.state.token_verifier.verify(await p.world.token("partner_b"))
    organisations = frozenset(o.id for o in p.world.organisations.values())
    relay = Relay(
        p.world.app.state.db, loopback, RelayConfig(organisation_ids=organisations), resolver=resolver
    )
    try:
        with Receiver() as receiver:
            async with unit_of_work(p.world.app.state.db, p.world.app.state.wiring) as uow:
                await webhooks.create(
                    uow,
                    principal,
                    SubscriptionCreate(
                        url=f"http://hooks.partner.invalid:{receiver.port}/in",
                        event_types=["referral.submitted"],
                    ),
                    box=SecretBox(loopback.secret("secret_key")),
                    policy=TargetPolicy(require_https=False, allow_private=False),
                    resolver=public,
                )
            for _ in range(3):
                await p.inbound("partner_b", buurt_index=2)
            assert await relay.run_once() == 3
            assert lookups == ["hooks.partner.invalid"]
            await p.inbound("partner_b", buurt_index=2)
            assert await relay.run_once() == 1
            assert lookups == ["hooks.partner.invalid"] * 2  # a new round checks again
            assert len(receiver.received) == 4
    finally:
        await relay.aclose()
