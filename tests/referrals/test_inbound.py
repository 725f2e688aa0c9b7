"""Inbound referrals: a partner posts one in, the covering team takes it up or declines it."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlmodel import col

from app.domain.referrals.models import Referral
from app.domain.referrals.schemas import InboundReferralCreate
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.domain.unit_of_work.work import unit_of_work
from tests.referrals.helpers import Partnering, submit_directly


async def test_partner_posts_and_the_covering_team_accepts_into_a_new_household(p: Partnering) -> None:
    referral = await p.inbound("partner_a", buurt_index=1)
    assert referral["status"] == "submitted"
    assert referral["direction"] == "inbound"
    assert "household_id" not in referral  # the partner's view carries no case-file links
    assert [t["to_status"] for t in referral["transitions"]] == ["submitted"]

    queue = await p.get("/api/v1/referrals", "generalist_a", status="submitted")
    assert referral["id"] in [r["id"] for r in queue.json()["items"]]
    other_team = await p.get("/api/v1/referrals", "generalist_b")
    assert referral["id"] not in [r["id"] for r in other_team.json()["items"]]

    accepted = await p.move(
        referral["id"], "generalist_a", "accepted", new_household={"postcode": "1234 ab", "house_number": 7}
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    assert body["household_id"] is not None and body["member_id"] is not None
    assert body["team_id"] == str(p.world.teams["a"].id)

    household = await p.get(f"/api/v1/households/{body['household_id']}/referrals", "generalist_a")
    assert household.status_code == 200
    assert [r["id"] for r in household.json()["items"]] == [referral["id"]]

    seen_by_partner = await p.get(f"/api/v1/referrals/{referral['id']}", "partner_a")
    assert seen_by_partner.json()["status"] == "accepted"
    assert "household_id" not in seen_by_partner.json()
    assert await p.events_of(referral["id"]) == ["referral.submitted", "referral.accepted"]


async def test_accept_links_an_existing_household_and_completion_goes_back_to_the_sender(
    p: Partnering,
) -> None:
    home = await p.household()
    referral = await p.inbound()
    accepted = await p.move(
        referral["id"], "generalist_a2", "accepted", household_id=str(home.id), member_id=str(home.members[0])
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["household_id"] == str(home.id)
    started = await p.move(referral["id"], "generalist_a2", "in_progress")
    assert started.status_code == 200
    done = await p.move(referral["id"], "generalist_a2", "completed", outcome="Budgetcoach gestart.")
    assert done.status_code == 200
    partner_view = (await p.get(f"/api/v1/referrals/{referral['id']}", "partner_a")).json()
    assert partner_view["status"] == "completed"
    assert partner_view["outcome"] == "Budgetcoach gestart."
    assert [t["to_status"] for t in partner_view["transitions"]] == [
        "submitted",
        "accepted",
        "in_progress",
        "completed",
    ]


async def test_accept_cannot_link_a_household_of_another_team(p: Partnering) -> None:
    theirs = await p.household(team="b")
    referral = await p.inbound()
    response = await p.move(referral["id"], "generalist_a", "accepted", household_id=str(theirs.id))
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "household_unknown"
    still = await p.get(f"/api/v1/referrals/{referral['id']}", "generalist_a")
    assert still.json()["status"] == "submitted"


async def test_decline_needs_a_reason_and_illegal_transitions_name_the_rule(p: Partnering) -> None:
    referral = await p.inbound()
    no_reason = await p.move(referral["id"], "generalist_a", "declined")
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["rule"] == "reason_required"
    skip = await p.move(referral["id"], "generalist_a", "completed", outcome="klaar")
    assert skip.status_code == 409
    assert skip.json()["type"] == "urn:wijkwerk:problem:referral_lifecycle"
    own = await p.move(referral["id"], "partner_a", "accepted")
    assert own.status_code == 403
    assert own.json()["type"] == "urn:wijkwerk:problem:referral_recipient_only"
    declined = await p.move(referral["id"], "generalist_a", "declined", reason="Geen wijkteamvraag.")
    assert declined.status_code == 200
    again = await p.move(referral["id"], "partner_a", "cancelled", reason="toch niet")
    assert again.status_code == 409
    assert await p.events_of(referral["id"]) == ["referral.submitted", "referral.declined"]


async def test_routing_by_postcode_and_refusals_for_unknown_places(p: Partnering) -> None:
    postcode = f"{9000 + uuid.uuid4().int % 999:04d}ZZ"
    await p.map_postcode(postcode, 3)
    person = {"given_name": "Kees", "postcode": postcode, "house_number": 4}
    routed = await p.inbound("partner_b", person=person, buurt_code=None)
    assert routed["buurt_code"] == p.world.buurten[3].code
    team_b = await p.get(f"/api/v1/referrals/{routed['id']}", "generalist_b")
    assert team_b.status_code == 200

    unmapped = await p.post_inbound(
        person={"given_name": "Kees", "postcode": "9999ZY", "house_number": 1}, buurt_code=None
    )
    assert unmapped.status_code == 422
    assert unmapped.json()["errors"][0]["rule"] == "postcode_unroutable"
    nowhere = await p.post_inbound(person={"given_name": "Kees"}, buurt_code=None)
    assert nowhere.json()["errors"][0]["rule"] == "address_or_buurt_required"
    unknown = await p.post_inbound(buurt_code="BU99999999")
    assert unknown.json()["errors"][0]["rule"] == "unknown_buurt"


async def test_bad_input_is_named_and_never_echoed(p: Partnering) -> None:
    secret_text = "Geheime-naam-Xq7"
    response = await p.post_inbound(
        person={"given_name": secret_text, "birth_date": "2999-01-01"},
        legal_basis="vital_interest",
        legal_basis_note=None,
        reason_domain="nonsense",
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert secret_text not in response.text
    rules = {e["rule"] for e in response.json()["errors"]}
    assert "birth_date_range" in rules
    wrong_domain = await p.post_inbound(
        reason_domain="nonsense", legal_basis="vital_interest", legal_basis_note=None
    )
    assert {e["rule"] for e in wrong_domain.json()["errors"]} == {"domain_unknown", "basis_note_required"}


async def test_partners_must_send_an_idempotency_key(p: Partnering) -> None:
    response = await p.client.post(
        "/api/v1/referrals", json=p.inbound_body(), headers=await p.world.headers("partner_a")
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:wijkwerk:problem:idempotency_key_required"


async def test_a_retry_replays_and_another_body_with_the_key_is_refused(p: Partnering) -> None:
    key = uuid.uuid4().hex
    first = await p.post_inbound(key=key)
    again = await p.post_inbound(key=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await p.post_inbound(key=key, description="Iets anders.")
    assert other.status_code == 422
    assert other.json()["errors"][0]["rule"] == "idempotency_key_reused"


async def test_concurrent_duplicate_posts_with_one_key_create_one_referral(p: Partnering) -> None:
    key = uuid.uuid4().hex
    responses = await asyncio.gather(*(p.post_inbound(key=key) for _ in range(6)))
    statuses = [r.status_code for r in responses]
    assert all(s in (201, 409) for s in statuses), statuses
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    subject = p.world.clients["partner_a"].client_id
    assert (
        await p.count(Referral, Referral.idempotency_scope == subject, Referral.idempotency_key == key) == 1
    )


async def test_partner_access_is_logged_with_organisation_and_client(p: Partnering) -> None:
    referral = await p.inbound("partner_b", buurt_index=2)
    await p.get(f"/api/v1/referrals/{referral['id']}", "partner_b")
    await p.get(f"/api/v1/referrals/{referral['id']}", "partner_a")
    async with p.world.app.state.db.transaction() as session:
        rows = (
            await session.execute(
                select(
                    col(AccessLogEntry.client_id),
                    col(AccessLogEntry.organisation_id),
                    col(AccessLogEntry.action),
                    col(AccessLogEntry.outcome),
                )
                .where(col(AccessLogEntry.resource_id) == uuid.UUID(referral["id"]))
                .order_by(col(AccessLogEntry.occurred_at))
            )
        ).all()
    b, a = p.world.clients["partner_b"], p.world.clients["partner_a"]
    assert (b.client_id, b.organisation_id, "create", "allowed") in rows
    assert (b.client_id, b.organisation_id, "read", "allowed") in rows
    assert (a.client_id, a.organisation_id, "read", "denied") in rows


async def test_the_database_makes_one_referral_of_concurrent_duplicates_even_without_the_key_store(
    p: Partnering,
) -> None:
    """Below the HTTP idempotency layer: the key is unique per caller on the referral itself, so two
    transactions racing with one key end with one referral, both answered with it (each claims the
    key in a key store of its own here, so only the referral's own constraint keeps them apart)."""
    principal = await p.world.app.state.token_verifier.verify(await p.world.token("partner_a"))
    body = InboundReferralCreate.model_validate(p.inbound_body())
    key = uuid.uuid4().hex

    async def submit(n: int) -> tuple[str, bool]:
        async with unit_of_work(p.world.app.state.db, p.world.app.state.wiring) as uow:
            outcome = await submit_directly(uow, principal, body, key=key, owner=f"elsewhere-{n}-{key}")
            await asyncio.sleep(0.05)  # hold the first transaction open while the other arrives
            return str(outcome.read.id), outcome.replayed

    results = await asyncio.gather(*(submit(n) for n in range(4)))
    assert len({referral_id for referral_id, _ in results}) == 1
    assert sorted(replayed for _, replayed in results) == [False, True, True, True]
    assert await p.events_of(results[0][0]) == ["referral.submitted"]
