"""Each category at its boundary: a row just past its term goes, a row just inside it stays."""

from __future__ import annotations

import uuid

from sqlmodel import col, select

from app.domain.assessments.models import Assessment
from app.domain.consents.models import Consent
from app.domain.households.models import ContactMoment, Household, HouseholdAssignment, Member
from app.domain.idempotency.models import IdempotencyKey
from app.domain.identity.models import AuthorizationCode, UsedClientAssertion
from app.domain.referrals.models import Referral, ReferralTransition
from app.domain.retention.models import RunOutcome
from app.domain.retention.rules import Category
from app.domain.retention.service import RunReport, purge
from app.domain.support_network.models import NetworkPerson
from app.domain.unit_of_work.change_feed import CaseChange
from app.domain.webhooks.models import WebhookEvent
from tests.retention.support import MARGIN, Estate


async def run(estate: Estate) -> RunReport:
    report = await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert report.outcome is RunOutcome.completed
    return report


async def test_closed_files_go_whole_after_their_term(estate: Estate) -> None:
    cutoff = await estate.cutoff(Category.closed_households)
    doomed = await estate.full_file()
    home = doomed["home"]
    await estate.close(home, cutoff - MARGIN)
    kept = await estate.household()
    await estate.close(kept, cutoff + MARGIN)
    kept_contact = await estate.contact(kept.id, await estate.now(), "Nog bewaard.")
    open_home = await estate.household()  # registered long ago does not matter: it is not closed
    await estate.update(Household, open_home.id, registered_at=cutoff - MARGIN)

    report = await run(estate)
    assert report.counts[Category.closed_households] >= 1

    hid = home.id
    assert not await estate.exists(Household, hid)
    for model in (Member, ContactMoment, NetworkPerson, Assessment, Consent, HouseholdAssignment):
        assert await estate.count(model, col(model.household_id) == hid) == 0, model.__name__
    assert await estate.count(Referral, col(Referral.household_id) == hid) == 0
    assert (
        await estate.count(ReferralTransition, col(ReferralTransition.referral_id) == doomed["referral"]) == 0
    )
    assert [await estate.plan_rows(plan) for plan in doomed["plans"]] == [0, 0]
    assert await estate.events_for(doomed["referral"], [doomed["consent"]]) == 0

    # Phones that held the file get a household tombstone (the audience before the deletion).
    async with estate.db.transaction() as session:
        tombstone = (
            await session.execute(
                select(CaseChange).where(col(CaseChange.household_id) == hid, CaseChange.op == "delete")
            )
        ).scalar_one()
    assert tombstone.entity == "household" and tombstone.former_team_id == estate.world.teams["a"].id
    a2 = estate.world.people["generalist_a2"].worker
    assert a2 is not None and tombstone.former_worker_ids == [a2.id]

    for survivor in (kept.id, open_home.id):
        assert await estate.exists(Household, survivor)
        assert await estate.count(Member, col(Member.household_id) == survivor) == 2
    assert await estate.note_of(kept_contact) == ("Nog bewaard.", 45)


async def test_network_people_of_files_closed_a_while_go(estate: Estate) -> None:
    cutoff = await estate.cutoff(Category.network_people)
    closed_long = await estate.close(await estate.household(), cutoff - MARGIN)
    closed_recently = await estate.close(await estate.household(), cutoff + MARGIN)
    still_open = (await estate.household()).id
    gone = await estate.network_person(closed_long)
    kept = [await estate.network_person(h) for h in (closed_recently, still_open)]
    await estate.update(NetworkPerson, kept[1], created_at=cutoff - MARGIN)  # age of the row is not it

    report = await run(estate)
    assert report.counts[Category.network_people] >= 1
    assert not await estate.exists(NetworkPerson, gone)
    assert all([await estate.exists(NetworkPerson, k) for k in kept])
    assert await estate.exists(Household, closed_long)  # the file itself stays until its own term
    assert (
        await estate.count(
            CaseChange, col(CaseChange.entity_id) == gone, CaseChange.entity == "network_person"
        )
        == 1
    )


async def test_contact_notes_are_blanked_and_the_contact_kept(estate: Estate) -> None:
    cutoff = await estate.cutoff(Category.contact_notes)
    home = (await estate.household()).id
    old = await estate.contact(home, cutoff - MARGIN, "Zorgen over de schulden.")
    recent = await estate.contact(home, cutoff + MARGIN, "Afspraak gemaakt.")
    silent = await estate.contact(home, cutoff - MARGIN, None)

    report = await run(estate)
    assert report.counts[Category.contact_notes] >= 1
    assert await estate.note_of(old) == (None, 45)  # the fact and length of the contact stay
    assert await estate.note_of(recent) == ("Afspraak gemaakt.", 45)
    assert await estate.note_of(silent) == (None, 45)
    changes = col(CaseChange.entity_id).in_([old, recent, silent])
    assert (
        await estate.count(CaseChange, changes, CaseChange.entity == "contact_moment") == 1
    )  # phones follow


async def test_unlinked_finished_referrals_go(estate: Estate) -> None:
    cutoff = await estate.cutoff(Category.unlinked_referrals)
    gone = await estate.unlinked_referral("declined", cutoff - MARGIN)
    kept = [
        await estate.unlinked_referral("declined", cutoff + MARGIN),
        await estate.unlinked_referral("submitted", cutoff - MARGIN),  # still waiting for an answer
    ]
    await run(estate)
    assert not await estate.exists(Referral, gone)
    assert await estate.count(ReferralTransition, col(ReferralTransition.referral_id) == gone) == 0
    assert all([await estate.exists(Referral, k) for k in kept])


async def test_finished_outbox_events_go(estate: Estate) -> None:
    cutoff = await estate.cutoff(Category.outbox_events)
    gone = [
        await estate.outbox_event(cutoff - MARGIN, "succeeded"),
        await estate.outbox_event(cutoff - MARGIN, "dead"),
        await estate.outbox_event(cutoff - MARGIN),
    ]
    kept = [
        await estate.outbox_event(cutoff + MARGIN, "succeeded"),
        await estate.outbox_event(cutoff - MARGIN, "pending"),  # still to deliver
    ]
    await run(estate)
    assert not any([await estate.exists(WebhookEvent, g) for g in gone])
    assert all([await estate.exists(WebhookEvent, k) for k in kept])


async def test_expired_keys_assertions_and_codes_go(estate: Estate) -> None:
    now = await estate.now()
    keys = [await estate.idempotency_key(now - MARGIN), await estate.idempotency_key(now + MARGIN)]
    jtis = [await estate.client_assertion(now - MARGIN), await estate.client_assertion(now + MARGIN)]
    codes = [await estate.authorization_code(now - MARGIN), await estate.authorization_code(now + MARGIN)]

    await run(estate)
    for model, column, (expired, valid) in (
        (IdempotencyKey, IdempotencyKey.key, keys),
        (UsedClientAssertion, UsedClientAssertion.jti, jtis),
        (AuthorizationCode, AuthorizationCode.code_hash, codes),
    ):
        assert await estate.count(model, col(column) == expired) == 0, model.__name__
        assert await estate.count(model, col(column) == valid) == 1, model.__name__


async def test_change_feed_rows_older_than_the_horizon_go(estate: Estate) -> None:
    cutoff = await estate.cutoff(Category.change_feed)
    household = uuid.uuid4()  # change rows name households by id only
    old_seq, old_txid = await estate.change_row(household, cutoff - MARGIN)
    new_seq, _ = await estate.change_row(household, cutoff + MARGIN)

    report = await run(estate)
    assert not await estate.exists(CaseChange, old_seq)
    assert await estate.exists(CaseChange, new_seq)
    assert report.change_feed_horizon is not None and report.change_feed_horizon >= old_txid
