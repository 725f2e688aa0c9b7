"""A partner's POST /api/v1/referrals is one statement on its own, without BEGIN and COMMIT (it claims
the key with the stored answer, checks, routes and writes the referral with its transition, webhook
event and access-log row, or writes nothing), and behaves exactly as checking and writing step by
step would: what is not a new referral is decided again in a transaction, as before."""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlmodel import col

from app.db import RawStatement
from app.domain.areas import repository as areas
from app.domain.idempotency.models import IdempotencyKey
from app.domain.organisation.models import Area
from app.domain.referrals import repository as referrals
from app.domain.referrals.models import Referral, ReferralTransition
from app.domain.referrals.schemas import InboundReferralCreate, PartnerReferralRead
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.domain.unit_of_work.work import UnitOfWork
from app.domain.webhooks.models import WebhookEvent
from tests.factories import next_code
from tests.referrals.helpers import Partnering, submit_directly
from tests.support.statements import counting_statements


async def test_a_partner_post_is_one_statement_on_its_own(p: Partnering) -> None:
    await p.inbound()  # warm: keys and pool
    key = uuid.uuid4().hex
    headers = {**await p.world.headers("partner_a"), "Idempotency-Key": key}
    with counting_statements(p.world.app.state.db) as seen:
        response = await p.client.post("/api/v1/referrals", json=p.inbound_body(), headers=headers)
    assert response.status_code == 201, response.text
    assert {"statements": len(seen), "transactions": seen.all.count("BEGIN"), "alone": seen.autocommit} == {
        "statements": 1,
        "transactions": 0,
        "alone": [True],
    }
    # The bytes are what the documented response model makes of them.
    read = PartnerReferralRead.model_validate_json(response.content)
    assert response.content == read.__pydantic_serializer__.to_json(read)
    assert response.headers["location"] == f"/api/v1/referrals/{read.id}"
    assert response.headers["content-type"] == "application/json"
    assert await p.events_of(response.json()["id"]) == ["referral.submitted"]
    assert await p.count(ReferralTransition, col(ReferralTransition.referral_id) == read.id) == 1
    logged = col(AccessLogEntry.resource_id) == read.id
    assert await p.count(AccessLogEntry, logged, col(AccessLogEntry.action) == "create") == 1
    assert await p.count(AccessLogEntry, logged) == 1
    subject = p.world.clients["partner_a"].client_id
    assert (
        await p.count(IdempotencyKey, col(IdempotencyKey.owner) == subject, col(IdempotencyKey.key) == key)
        == 1
    )
    replay = await p.client.post("/api/v1/referrals", json=p.inbound_body(), headers=headers)
    assert (replay.status_code, replay.content) == (201, response.content)
    assert replay.headers["location"] == response.headers["location"]


async def test_the_answer_to_a_post_is_what_a_read_of_it_shows(p: Partnering) -> None:
    by_buurt = await p.inbound("partner_b", buurt_index=2)
    postcode = f"{1000 + uuid.uuid4().int % 8999:04d}QQ"
    await p.map_postcode(postcode, 1)
    person = {"given_name": "Kees", "family_name": "Bos", "postcode": postcode, "house_number": 4}
    by_postcode = await p.inbound("partner_b", person=person, buurt_code=None)
    for posted in (by_buurt, by_postcode):
        read = await p.get(f"/api/v1/referrals/{posted['id']}", "partner_b")
        assert read.json() == posted
    assert by_postcode["buurt_code"] == p.world.buurten[1].code


async def test_refusals_write_nothing_and_name_the_first_rules_broken(p: Partnering) -> None:
    key = uuid.uuid4().hex
    unknown_everything = await p.post_inbound(key=key, reason_domain="nonsense", buurt_code="BU99999998")
    assert [e["rule"] for e in unknown_everything.json()["errors"]] == ["domain_unknown"]
    uncovered = await _uncovered_buurt(p)
    not_covered = await p.post_inbound(key=key, buurt_code=uncovered)
    assert not_covered.status_code == 422
    assert not_covered.json()["errors"] == [
        {"loc": ["body", "buurt_code"], "message": "No team covers this buurt.", "rule": "buurt_not_covered"}
    ]
    subject = p.world.clients["partner_a"].client_id
    assert (
        await p.count(Referral, Referral.idempotency_scope == subject, Referral.idempotency_key == key) == 0
    )
    assert await p.count(IdempotencyKey, IdempotencyKey.owner == subject, IdempotencyKey.key == key) == 0
    accepted = await p.post_inbound(key=key)  # the key was never used up
    assert accepted.status_code == 201


async def test_a_key_the_store_forgot_still_answers_with_its_referral(p: Partnering) -> None:
    """The referral keeps its own key: once the key store's row is gone (purged), a retry gets the
    referral it made, and nothing is written twice."""
    key = uuid.uuid4().hex
    first = await p.post_inbound(key=key)
    subject = p.world.clients["partner_a"].client_id
    async with p.world.app.state.db.transaction() as session:
        await session.execute(
            delete(IdempotencyKey).where(col(IdempotencyKey.owner) == subject, col(IdempotencyKey.key) == key)
        )
    again = await p.post_inbound(key=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await p.events_of(first.json()["id"]) == ["referral.submitted"]
    other = await p.post_inbound(key=uuid.uuid4().hex)
    assert await p.count(WebhookEvent, col(WebhookEvent.referral_id) == uuid.UUID(other.json()["id"])) == 1


async def _uncovered_buurt(p: Partnering) -> str:
    """A buurt of the test municipality that no team covers."""
    n = next_code()
    code = f"BU{n:04d}99{n % 100:02d}"
    async with p.world.app.state.db.transaction() as session:
        session.add(
            Area(
                municipality_id=p.world.municipality.id,
                parent_id=p.world.wijken[0].id,
                code=code,
                name="Niemandsland",
                level="buurt",
            )
        )
    return code


async def test_a_request_failing_after_the_statement_still_leaves_its_access_log_row(p: Partnering) -> None:
    """The statement writes the access-log row with the referral; when the request fails later in the
    transaction it ran in, the rollback takes both, and the unit of work writes the row again, as
    failed: still exactly one."""
    principal = await p.world.app.state.token_verifier.verify(await p.world.token("partner_a"))
    body = InboundReferralCreate.model_validate(p.inbound_body())
    app = p.world.app
    work = UnitOfWork(app.state.db, app.state.wiring, request_id="after-the-statement")
    await work.begin()  # as when the address was looked up first
    submitted = await submit_directly(work, principal, body, key=uuid.uuid4().hex)
    await work.fail()  # a later step of the request failed
    await work.close()
    referral_id = submitted.read.id
    assert await p.count(Referral, col(Referral.id) == referral_id) == 0
    logged = col(AccessLogEntry.resource_id) == referral_id
    assert await p.count(AccessLogEntry, logged, col(AccessLogEntry.outcome) == "failed") == 1
    assert await p.count(AccessLogEntry, logged) == 1

    work = UnitOfWork(app.state.db, app.state.wiring, request_id="after-the-statement")
    submitted = await submit_directly(work, principal, body, key=uuid.uuid4().hex)
    await work.commit()  # committed: the row the statement wrote is not written twice
    await work.close()
    logged = col(AccessLogEntry.resource_id) == submitted.read.id
    assert await p.count(AccessLogEntry, logged, col(AccessLogEntry.outcome) == "allowed") == 1
    assert await p.count(AccessLogEntry, logged) == 1


async def test_a_statement_on_its_own_stands_when_the_request_fails_later(p: Partnering) -> None:
    """Without a transaction the statement commits itself, the referral with the claim of its key and
    its stored answer: a request failing afterwards leaves exactly that (a retry replays the answer),
    and the access-log row the statement wrote is not written again."""
    principal = await p.world.app.state.token_verifier.verify(await p.world.token("partner_a"))
    body = InboundReferralCreate.model_validate(p.inbound_body())
    app = p.world.app
    key = uuid.uuid4().hex
    work = UnitOfWork(app.state.db, app.state.wiring, request_id="alone-then-failed")
    submitted = await submit_directly(work, principal, body, key=key)
    assert not work.in_transaction
    await work.fail()
    await work.close()
    referral_id = submitted.read.id
    assert await p.count(Referral, col(Referral.id) == referral_id) == 1
    assert (
        await p.count(
            IdempotencyKey, col(IdempotencyKey.owner) == principal.subject, col(IdempotencyKey.key) == key
        )
        == 1
    )
    logged = col(AccessLogEntry.resource_id) == referral_id
    assert await p.count(AccessLogEntry, logged, col(AccessLogEntry.outcome) == "allowed") == 1
    assert await p.count(AccessLogEntry, logged) == 1


async def test_a_refusal_found_on_its_own_is_decided_in_a_transaction(p: Partnering) -> None:
    """The statement on its own writes nothing when a rule is broken (not even the claim of the key);
    the refusal is then found again in a transaction whose claim rolls back: two statements, no
    referral, no key used up."""
    await p.inbound()  # warm: keys and pool
    key = uuid.uuid4().hex
    headers = {**await p.world.headers("partner_a"), "Idempotency-Key": key}
    with counting_statements(p.world.app.state.db) as seen:
        refused = await p.client.post(
            "/api/v1/referrals", json=p.inbound_body(reason_domain="nonsense"), headers=headers
        )
    assert [e["rule"] for e in refused.json()["errors"]] == ["domain_unknown"]
    assert seen.autocommit[:2] == [True, False]
    assert seen.all.count("ROLLBACK") == 1
    subject = p.world.clients["partner_a"].client_id
    assert (
        await p.count(IdempotencyKey, col(IdempotencyKey.owner) == subject, col(IdempotencyKey.key) == key)
        == 0
    )
    assert (
        await p.count(
            Referral, col(Referral.idempotency_scope) == subject, col(Referral.idempotency_key) == key
        )
        == 0
    )


def _sent(statement: RawStatement) -> str:
    """A raw statement as the statement counter records it (whitespace collapsed)."""
    return " ".join(statement.sql.split())


async def test_a_post_routed_by_address_is_two_statements_on_their_own(p: Partnering) -> None:
    """The areas context's lookup finds the buurt of the address first (the answer names it), then the
    one statement routes by that buurt's code, as if the partner had named it: two round trips,
    neither in a transaction, and the address is looked up once."""
    await p.inbound()  # warm: keys and pool
    postcode = f"{1000 + uuid.uuid4().int % 8999:04d}QR"
    await p.map_postcode(postcode, 3)
    person = {"given_name": "Kees", "family_name": "Bos", "postcode": postcode, "house_number": 4}
    headers = {**await p.world.headers("partner_b"), "Idempotency-Key": uuid.uuid4().hex}
    body = p.inbound_body(person=person, buurt_code=None)
    with counting_statements(p.world.app.state.db) as seen:
        response = await p.client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["buurt_code"] == p.world.buurten[3].code
    assert seen.all == [_sent(areas.ADDRESS), _sent(referrals.SUBMIT_BY_BUURT_ALONE)]
    assert seen.autocommit == [True, True]


async def test_an_address_the_table_does_not_place_is_refused_in_one_transaction(p: Partnering) -> None:
    """An address the lookup did not place is refused for certain: no attempt on its own, straight
    to the transaction (its claim rolls back), and no key used up."""
    await p.inbound()  # warm: keys and pool
    postcode = f"{1000 + uuid.uuid4().int % 8999:04d}QS"  # not in the postcode table
    person = {"given_name": "Kees", "family_name": "Bos", "postcode": postcode, "house_number": 4}
    headers = {**await p.world.headers("partner_b"), "Idempotency-Key": uuid.uuid4().hex}
    body = p.inbound_body(person=person, buurt_code=None)
    with counting_statements(p.world.app.state.db) as seen:
        refused = await p.client.post("/api/v1/referrals", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert [(e["rule"], e["loc"]) for e in refused.json()["errors"]] == [
        ("postcode_unroutable", ["body", "person", "postcode"])
    ]
    assert seen.all[:4] == [_sent(areas.ADDRESS), "BEGIN", _sent(referrals.SUBMIT_BY_BUURT), "ROLLBACK"]
    # Then only the failed attempt's access-log row, in a transaction of its own (as for any refusal).
    assert [s.split(" (")[0] for s in seen.all[4:]] == ["BEGIN", "INSERT INTO access_log", "COMMIT"]
    again = await p.client.post("/api/v1/referrals", json=p.inbound_body(), headers=headers)
    assert again.status_code == 201, again.text  # the key was not used up
