"""A member's withdrawal has the team's effect, at once: the partner loses sight of the referral that
rested on the consent, and deliveries queued for it are cancelled."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa
from sqlmodel import col

from app.domain.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.factories import World
from tests.self_service.support import Home, Signed, consent, referral
from tests.support.statements import counting_statements


async def _subscribe(world: World) -> uuid.UUID:
    """A subscription of partner A to new referrals (written directly: no relay runs here)."""
    async with world.app.state.db.transaction() as session:
        subscription = WebhookSubscription(
            organisation_id=world.organisations["a"].id,
            created_by_client_id=world.clients["partner_a"].client_id,
            url="https://partner-a.example/hooks",
            event_types=["referral.submitted"],
            secret_encrypted="not used: nothing is sent in this test",
        )
        session.add(subscription)
        await session.flush()
        return subscription.id


async def _deliveries(world: World, consent_id: str) -> list[tuple[str, str | None]]:
    async with world.app.state.db.transaction() as session:
        rows = await session.execute(
            sa.select(col(WebhookDelivery.status), col(WebhookDelivery.last_error))
            .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
            .where(col(WebhookEvent.consent_id) == uuid.UUID(consent_id))
        )
        return [(status, error) for status, error in rows]


async def test_the_members_withdrawal_stops_the_partner_and_cancels_queued_deliveries(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    await _subscribe(world)
    consent_id = await consent(home, "Anna")
    referral_id = await referral(home, "Anna")
    path = f"/api/v1/referrals/{referral_id}"
    assert (await home.get(path, "partner_a")).status_code == 200
    assert await _deliveries(world, consent_id) == [("pending", None)]

    withdrawn = await client.post(f"/api/v1/me/consents/{consent_id}/withdraw", headers=await anna.headers())
    assert withdrawn.status_code == 200, withdrawn.text

    assert (await home.get(path, "partner_a")).status_code == 404
    listed = await home.get("/api/v1/referrals", "partner_a")
    assert referral_id not in {r["id"] for r in listed.json()["items"]}
    assert await _deliveries(world, consent_id) == [("cancelled", "consent_withdrawn")]
    # The team keeps the lead: it still sees the referral, and the consent as withdrawn by the member.
    assert (await home.get(path)).status_code == 200
    team_view = await home.get(f"/api/v1/households/{home.id}/consents/{consent_id}")
    assert team_view.json()["withdrawal_recorded_by"] == "member"


async def test_the_members_withdrawal_is_the_teams_statement_in_one_transaction(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    """The member's withdrawal goes through the team's one statement (consents.service.WITHDRAW, the
    member's own rule checked in it): BEGIN, the withdrawal with its access check, change row and
    entry, the deliveries resting on it cancelled, COMMIT."""
    consent_id = await consent(home, "Anna")
    headers = await anna.headers()
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200  # the token checked once
    with counting_statements(world.app.state.db) as sent:
        withdrawn = await client.post(f"/api/v1/me/consents/{consent_id}/withdraw", headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["organisation"] == world.organisations["a"].name
    assert withdrawn.json()["purpose"]["code"] == "finances" and withdrawn.json()["in_force"] is False
    assert sent.all[0].upper().startswith("BEGIN") and sent.all[-1].upper().rstrip(";") == "COMMIT"
    assert len(sent) == 2 and len(sent.all) == 4, sent.all
    assert sent[0].startswith("WITH target AS"), sent[0]  # the case write's statement
