"""An outbound referral names the service of the receiving organisation that is asked for (issue 13
item 5): checked (visible, active, the receiving organisation's own), carried to the partner (its REST
read and the thin webhook payload) and synced with the household's file."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlmodel import col, select

from app.domain.webhooks.models import WebhookEvent
from tests.directory.support import make_directory
from tests.factories import World
from tests.referrals.helpers import Partnering


async def _payloads(world: World, referral_id: str) -> list[dict[str, Any]]:
    async with world.app.state.db.transaction() as session:
        rows = await session.execute(
            select(col(WebhookEvent.payload)).where(col(WebhookEvent.referral_id) == uuid.UUID(referral_id))
        )
        return [r[0] for r in rows]


async def test_the_partner_sees_which_of_its_services_was_asked_for(
    p: Partnering, world: World, client: httpx.AsyncClient
) -> None:
    d = await make_directory(world, client)
    home = await p.household()
    await p.consent(home)
    referral = await p.outbound(home, service_id=d.id("debt_a"))
    assert referral["service_id"] == d.id("debt_a")
    as_partner = await p.get(f"/api/v1/referrals/{referral['id']}", "partner_a")
    assert as_partner.status_code == 200 and as_partner.json()["service_id"] == d.id("debt_a")
    # The thin webhook payload carries the id (never the service's text), the team's list and sync too.
    [payload] = await _payloads(world, referral["id"])
    assert payload["data"] == {
        "referral_id": referral["id"],
        "direction": "outbound",
        "status": "submitted",
        "occurred_at": payload["data"]["occurred_at"],
        "service_id": d.id("debt_a"),
    }
    listed = await p.get(f"/api/v1/households/{home.id}/referrals", "generalist_a")
    assert [r["service_id"] for r in listed.json()["items"]] == [d.id("debt_a")]
    # Partner B never sees it: the referral is A's.
    assert (await p.get(f"/api/v1/referrals/{referral['id']}", "partner_b")).status_code == 404
    # Without a service the field is null, and inbound referrals never name one.
    plain = await p.outbound(home)
    assert plain["service_id"] is None
    assert (await p.inbound())["service_id"] is None


async def test_a_service_that_does_not_fit_the_referral_is_refused(
    p: Partnering, world: World, client: httpx.AsyncClient
) -> None:
    d = await make_directory(world, client)
    home = await p.household()
    await p.consent(home)
    cases = {
        d.id("housing_b"): "service_not_of_organisation",  # partner B's service, referral to A
        str(uuid.uuid4()): "service_unknown",
    }
    for service_id, rule in cases.items():
        response = await p.post_outbound(home, service_id=service_id)
        assert response.status_code == 422, response.text
        assert [(e["loc"], e["rule"]) for e in response.json()["errors"]] == [(["body", "service_id"], rule)]
    # Nothing was written for the refused ones.
    assert await p.count(WebhookEvent, col(WebhookEvent.organisation_id) == world.organisations["a"].id) == 0
    # A's own non-public service: a worker may name it.
    internal = await p.post_outbound(home, service_id=d.id("internal_a"))
    assert internal.status_code == 201, internal.text
