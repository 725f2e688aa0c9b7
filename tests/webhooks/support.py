"""Webhook subscriptions made through the API, as a partner does."""

from __future__ import annotations

from typing import Any

from tests.referrals.helpers import Partnering


async def subscribe(p: Partnering, url: str, partner: str = "partner_a", **extra: Any) -> dict[str, Any]:
    body = {
        "url": url,
        "event_types": ["referral.submitted", "referral.accepted", "referral.message"],
        **extra,
    }
    response = await p.client.post("/api/v1/webhooks", json=body, headers=await p.world.headers(partner))
    assert response.status_code == 201, response.text
    return dict(response.json())
