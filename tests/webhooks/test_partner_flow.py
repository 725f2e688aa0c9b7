"""docs/examples/partner_flow.py, run against the application: token, webhook subscription, a referral
posted twice with one Idempotency-Key, polling, and signed webhooks verified by the example's code."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from app.domain.webhooks.relay import Relay, RelayConfig
from app.settings import Settings
from tests.referrals.helpers import Partnering
from tests.webhooks.receiver import Receiver

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "partner_flow.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("partner_flow", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def loopback(p: Partnering, settings: Settings) -> Iterator[Settings]:
    allowed = settings.model_copy(update={"webhook_allow_private_targets": True})
    state = p.world.app.state
    original, state.settings = state.settings, allowed
    try:
        yield allowed
    finally:
        state.settings = original


async def test_the_documented_partner_flow_runs(p: Partnering, loopback: Settings) -> None:
    example = _example()
    client = p.world.clients["partner_a"]
    relay = Relay(
        p.world.app.state.db,
        loopback,
        RelayConfig(organisation_ids=frozenset(o.id for o in p.world.organisations.values())),
    )
    try:
        with Receiver() as receiver:
            result = await example.run(
                p.client,
                client.client_id,
                p.world.secrets["partner_a"],
                p.world.buurten[0].code,
                webhook_url=receiver.url(),
            )
            referral = result["referral"]
            assert referral["status"] == "submitted"
            assert (
                await p.move(referral["id"], "generalist_a", "declined", reason="Niet voor ons.")
            ).status_code == 200
            await relay.drain()

            secret = result["subscription"]["secret"]
            events = [example.verify_webhook(secret, r.headers, r.body) for r in receiver.received]
            # Deliveries run in parallel, so arrival order is not guaranteed (docs/partners.md).
            assert sorted((e["type"], e["data"]["referral_id"]) for e in events) == [
                ("referral.declined", referral["id"]),
                ("referral.submitted", referral["id"]),
            ]
            tampered = json.dumps({**events[0], "type": "referral.completed"}).encode()
            with pytest.raises(WebhookVerificationError):
                example.verify_webhook(secret, receiver.received[0].headers, tampered)
        polled = await example.get_referral(p.client, result["token"], referral["id"])
        assert polled["status"] == "declined" and polled["status_reason"] == "Niet voor ons."
    finally:
        await relay.aclose()
