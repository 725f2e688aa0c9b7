"""Outbound referrals rest on a consent or another recorded legal basis; consents are recorded,
listed and withdrawn by the team, and withdrawal takes effect at once."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from app.domain.consents.rules import local_today
from app.domain.webhooks.models import WebhookEvent
from tests.referrals.helpers import Partnering


async def test_consent_is_recorded_listed_and_read(p: Partnering) -> None:
    home = await p.household()
    consent = await p.consent(home, categories=("identity",))
    assert consent["in_force"] is True
    assert consent["valid_from"] == str(local_today())
    listed = await p.get(f"/api/v1/households/{home.id}/consents", "generalist_a2")
    assert [c["id"] for c in listed.json()["items"]] == [consent["id"]]
    one = await p.get(f"/api/v1/households/{home.id}/consents/{consent['id']}", "generalist_a")
    assert one.json()["categories"] == ["identity"]


async def test_consent_input_is_checked(p: Partnering) -> None:
    home, other = await p.household(), await p.household()
    body = {
        "member_id": str(other.members[0]),
        "organisation_id": str(uuid.uuid4()),
        "purpose": "astrology",
        "categories": ["identity"],
        "valid_from": str(date.today()),
        "valid_until": str(date.today() - timedelta(days=1)),
    }
    response = await p.client.post(
        f"/api/v1/households/{home.id}/consents", json=body, headers=await p.world.headers("generalist_a")
    )
    assert response.status_code == 422
    assert {e["rule"] for e in response.json()["errors"]} == {
        "member_unknown",
        "organisation_unknown",
        "purpose_unknown",
        "period_order",
    }
    bad_category = await p.client.post(
        f"/api/v1/households/{home.id}/consents",
        json={**body, "categories": ["medical_file"]},
        headers=await p.world.headers("generalist_a"),
    )
    assert bad_category.status_code == 422


async def test_outbound_needs_a_consent_covering_organisation_and_purpose(p: Partnering) -> None:
    home = await p.household()
    none_yet = await p.post_outbound(home)
    assert none_yet.status_code == 422
    assert none_yet.json()["errors"][0]["rule"] == "consent_required"

    await p.consent(home, partner="partner_b")  # another organisation
    await p.consent(home, purpose="housing")  # another purpose
    await p.consent(home, member=1)  # another member
    still_none = await p.post_outbound(home)
    assert still_none.json()["errors"][0]["rule"] == "consent_required"

    consent = await p.consent(home, categories=("identity",))
    too_much = await p.post_outbound(home, share=["identity", "address"])
    assert too_much.json()["errors"][0]["rule"] == "consent_categories"

    referral = await p.outbound(home)
    assert referral["consent_id"] == consent["id"]
    assert referral["shared_categories"] == ["identity"]
    assert referral["organisation_id"] == str(p.world.organisations["a"].id)

    partner_view = (await p.get(f"/api/v1/referrals/{referral['id']}", "partner_a")).json()
    assert partner_view["person"]["given_name"] == "Anna"
    assert partner_view["person"]["family_name"] == "de Vries"
    assert partner_view["person"]["postcode"] is None  # address not covered
    assert partner_view["buurt_code"] is None
    assert "household_id" not in partner_view and "member_id" not in partner_view
    assert await p.events_of(referral["id"]) == ["referral.submitted"]


async def test_outbound_on_another_legal_basis_must_name_it(p: Partnering) -> None:
    home = await p.household()
    unnamed = await p.post_outbound(home, legal_basis="vital_interest")
    assert unnamed.json()["errors"][0]["rule"] == "basis_note_required"
    referral = await p.outbound(
        home, legal_basis="vital_interest", legal_basis_note="Acute dakloosheid dreigt.", share=["address"]
    )
    assert referral["consent_id"] is None
    assert referral["person"]["family_name"] is None
    assert referral["person"]["postcode"] == "1234AB"
    phone_not_shared = await p.post_outbound(
        home, legal_basis="legal_duty", legal_basis_note="Wgs", phone="0612345678"
    )
    assert phone_not_shared.json()["errors"][0]["rule"] == "category_not_shared"


async def test_partner_works_an_outbound_referral_and_the_team_sees_its_status(p: Partnering) -> None:
    home = await p.household()
    await p.consent(home)
    referral = await p.outbound(home)
    assert (await p.move(referral["id"], "generalist_a", "accepted")).status_code == 403
    for status, fields in (
        ("accepted", {}),
        ("in_progress", {}),
        ("completed", {"outcome": "Regeling getroffen."}),
    ):
        response = await p.move(referral["id"], "partner_a", status, **fields)
        assert response.status_code == 200, response.text
    overview = await p.get(f"/api/v1/households/{home.id}/referrals", "generalist_a")
    assert overview.json()["items"][0]["status"] == "completed"
    assert overview.json()["items"][0]["outcome"] == "Regeling getroffen."
    messages = await p.client.post(
        f"/api/v1/referrals/{referral['id']}/messages",
        json={"body": "Dank, we sluiten de actie af."},
        headers=await p.world.headers("generalist_a"),
    )
    assert messages.status_code == 201
    conversation = await p.get(f"/api/v1/referrals/{referral['id']}/messages", "partner_a")
    assert [(m["side"], m["body"]) for m in conversation.json()["items"]] == [
        ("team", "Dank, we sluiten de actie af.")
    ]
    assert await p.events_of(referral["id"]) == [
        "referral.submitted",
        "referral.accepted",
        "referral.in_progress",
        "referral.completed",
        "referral.message",
    ]


async def test_withdrawal_refuses_the_partners_next_read_and_queues_nothing_more(p: Partnering) -> None:
    home = await p.household()
    consent = await p.consent(home)
    referral = await p.outbound(home)
    path = f"/api/v1/referrals/{referral['id']}"
    assert (await p.get(path, "partner_a")).status_code == 200
    assert (await p.move(referral["id"], "partner_a", "accepted")).status_code == 200

    withdraw = await p.client.post(
        f"/api/v1/households/{home.id}/consents/{consent['id']}/withdraw",
        headers=await p.world.headers("generalist_a"),
    )
    assert withdraw.status_code == 200
    assert withdraw.json()["in_force"] is False and withdraw.json()["withdrawn_at"] is not None

    refused = await p.get(path, "partner_a")
    assert refused.status_code == 404
    listed = await p.get("/api/v1/referrals", "partner_a")
    assert referral["id"] not in [r["id"] for r in listed.json()["items"]]
    assert (await p.move(referral["id"], "partner_a", "in_progress")).status_code == 404
    messages = await p.get(f"{path}/messages", "partner_a")
    assert messages.status_code == 404

    events_before = await p.count(WebhookEvent, WebhookEvent.referral_id == uuid.UUID(referral["id"]))
    cancelled = await p.move(referral["id"], "generalist_a", "cancelled", reason="Toestemming ingetrokken.")
    assert cancelled.status_code == 200  # the team keeps the lead and closes it
    message = await p.client.post(
        f"{path}/messages", json={"body": "Afgesloten."}, headers=await p.world.headers("generalist_a")
    )
    assert message.status_code == 201
    assert await p.count(WebhookEvent, WebhookEvent.referral_id == uuid.UUID(referral["id"])) == events_before

    again = await p.client.post(
        f"/api/v1/households/{home.id}/consents/{consent['id']}/withdraw",
        headers=await p.world.headers("generalist_a"),
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:wijkwerk:problem:consent_already_withdrawn"
    no_new = await p.post_outbound(home)
    assert no_new.json()["errors"][0]["rule"] == "consent_required"
