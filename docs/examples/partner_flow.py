"""A partner organisation's whole flow against the Wijkwerk API, with httpx.

    .venv/bin/python docs/examples/partner_flow.py --base-url https://wijkwerk.example \\
        --client-id debt-help --buurt-code BU99990101 [--webhook-url https://partner.example/hooks]

The client secret comes from the ``WIJKWERK_CLIENT_SECRET`` environment variable (never a command-line
argument: it would end up in the shell history). It needs httpx and standardwebhooks: run it with the
project's Python (``.venv/bin/python``) or install those two. The steps:

1. get an access token (OAuth 2 client credentials);
2. optionally subscribe a webhook URL to referral events (store the returned secret);
3. post a referral with an ``Idempotency-Key`` (a retry with the same key is safe);
4. poll the referral for its status (or wait for the webhook);
5. verify a received webhook's Standard Webhooks signature.

The test-suite runs ``run()`` against the application (tests/webhooks/test_partner_flow.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

EVENTS = [
    "referral.submitted",
    "referral.accepted",
    "referral.declined",
    "referral.in_progress",
    "referral.completed",
    "referral.cancelled",
    "referral.message",
]


async def get_token(http: httpx.AsyncClient, client_id: str, client_secret: str) -> str:
    """Client credentials with HTTP Basic client authentication; the token is valid for minutes."""
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "referrals:read referrals:write"},
        auth=(client_id, client_secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def subscribe(http: httpx.AsyncClient, token: str, url: str) -> dict[str, Any]:
    """Register a webhook; the answer holds the signing ``secret``, shown this once."""
    response = await http.post(
        "/api/v1/webhooks",
        json={"url": url, "event_types": EVENTS, "description": "referral updates"},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return dict(response.json())


async def post_referral(
    http: httpx.AsyncClient, token: str, referral: dict[str, Any], key: str
) -> httpx.Response:
    """POST with an Idempotency-Key: on a timeout or 5xx, send the very same request again."""
    return await http.post(
        "/api/v1/referrals",
        json=referral,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


async def get_referral(http: httpx.AsyncClient, token: str, referral_id: str) -> dict[str, Any]:
    response = await http.get(
        f"/api/v1/referrals/{referral_id}", headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return dict(response.json())


def verify_webhook(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The event, if the signature and timestamp check out; raises WebhookVerificationError otherwise.

    Verify the raw body exactly as received, before parsing it, and de-duplicate on ``webhook-id``
    (a message can arrive more than once).
    """
    payload: dict[str, Any] = Webhook(secret).verify(body, headers)
    return payload


def example_referral(buurt_code: str) -> dict[str, Any]:
    return {
        "person": {"given_name": "Sanne", "family_name": "Jansen", "birth_date": "1990-02-03"},
        "buurt_code": buurt_code,
        "reason_domain": "finances",
        "urgency": "urgent",
        "description": "Twee maanden huurachterstand; bewoner wil hulp.",
        "legal_basis": "legal_duty",
        "legal_basis_note": "Wgs: vroegsignalering betalingsachterstand",
    }


async def run(
    http: httpx.AsyncClient,
    client_id: str,
    client_secret: str,
    buurt_code: str,
    webhook_url: str | None = None,
) -> dict[str, Any]:
    """Steps 1-4; returns the token, the subscription (if any) and the referral as posted."""
    token = await get_token(http, client_id, client_secret)
    subscription = await subscribe(http, token, webhook_url) if webhook_url else None
    key = str(uuid.uuid4())
    first = await post_referral(http, token, example_referral(buurt_code), key)
    first.raise_for_status()
    retry = await post_referral(http, token, example_referral(buurt_code), key)  # e.g. after a timeout
    if retry.json()["id"] != first.json()["id"]:
        raise RuntimeError("a retry with the same key must never make a second referral")
    referral = await get_referral(http, token, first.json()["id"])
    return {"token": token, "subscription": subscription, "referral": referral}


async def _main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--buurt-code", required=True)
    parser.add_argument("--webhook-url")
    args = parser.parse_args()
    secret = os.environ["WIJKWERK_CLIENT_SECRET"]
    async with httpx.AsyncClient(base_url=args.base_url, timeout=10) as http:
        result = await run(http, args.client_id, secret, args.buurt_code, args.webhook_url)
    result.pop("token")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(_main())
