"""How referrals come into being: a partner posts one in (inbound), a worker refers out (outbound).

Inbound referrals are routed by buurt (or by postcode) to the team covering it. Partners must send an
``Idempotency-Key``: the key is stored on the referral under a unique constraint, so even concurrent
duplicates make one referral (the second waits for the first, then gets the same referral back).
A partner's POST takes two steps: ``prepare_inbound`` makes the referral as it will be written, the
face that answers makes its answer of it, and ``submit_inbound`` writes the referral in one statement
that stores that answer with the key's claim.

An outbound referral passes on only what its legal basis allows: with a consent, at most the data
categories the consent covers, for that organisation and purpose; with another basis (legal duty,
vital interest) that basis must be recorded, and only the categories the worker chooses go along.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.areas import repository as areas
from app.domain.consents import repository as consents_repo
from app.domain.consents.models import Consent, DataCategory
from app.domain.directory import offers
from app.domain.directory.rules import offer_problems, sees_internal, service_failures
from app.domain.errors import DomainError, FieldError, Forbidden, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.models import Household, Member
from app.domain.idempotency import service as idempotency
from app.domain.idempotency.repository import StoredAnswer
from app.domain.idempotency.service import KeyRequest, Replay
from app.domain.plans.models import PlanAction
from app.domain.referrals import repository as repo
from app.domain.referrals import rules
from app.domain.referrals.models import Direction, LegalBasis, Referral, ReferralStatus, Side
from app.domain.referrals.schemas import InboundReferralCreate, OutboundReferralCreate
from app.domain.referrals.service import (
    PURPOSE,
    RESOURCE,
    AnyReferralRead,
    event_body,
    new_transition,
    present_data,
    present_one,
    record_transition,
    side_of,
)
from app.domain.unit_of_work.access_log import AccessAction, AccessEntry
from app.domain.unit_of_work.change_feed import ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork
from app.domain.webhooks import outbox
from app.domain.webhooks.models import EventType
from app.security.principal import Principal


class IdempotencyKeyRequired(DomainError):
    """Answered as 400: partners must make every POST retry-safe."""

    rule = "idempotency_key_required"


def _request_hash(data: InboundReferralCreate | OutboundReferralCreate) -> str:
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


async def _check_common(
    session: AsyncSession, reason_domain: str, basis: LegalBasis, note: str | None
) -> list[FieldError]:
    return _common_errors(await consents_repo.active_life_domain(session, reason_domain), basis, note)


def _common_errors(domain_active: bool, basis: LegalBasis, note: str | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if not domain_active:
        errors.append(
            FieldError(("body", "reason_domain"), "Not an active life-domain code.", "domain_unknown")
        )
    if basis is not LegalBasis.consent and not note:
        errors.append(
            FieldError(
                ("body", "legal_basis_note"),
                "Name the legal duty or vital interest relied on.",
                "basis_note_required",
            )
        )
    return errors


def _routing_error(lookup: repo.InboundLookup, by_postcode: bool) -> ValidationFailed | None:
    """The routing rule a looked-up place breaks, if any (checked after the common rules)."""
    loc: tuple[str | int, ...] = ("body", "person", "postcode") if by_postcode else ("body", "buurt_code")
    if lookup.buurt_id is None:
        if by_postcode:
            message, rule = "No buurt is known for this address; send buurt_code.", "postcode_unroutable"
        else:
            message, rule = "This buurt is not known.", "unknown_buurt"
        return ValidationFailed([FieldError(loc, message, rule)])
    if lookup.team_id is None:
        return ValidationFailed([FieldError(loc, "No team covers this buurt.", "buurt_not_covered")])
    return None


def _address_or_buurt_required() -> ValidationFailed:
    return ValidationFailed(
        [
            FieldError(
                ("body", "buurt_code"),
                "Give buurt_code, or the person's postcode and house_number.",
                "address_or_buurt_required",
            )
        ]
    )


_IDENTITY, _ADDRESS, _CONTACT = (
    str(c) for c in (DataCategory.identity, DataCategory.address, DataCategory.contact)
)


def _categories_given(data: InboundReferralCreate) -> list[str]:
    person = data.person
    given = {
        _IDENTITY: person.family_name is not None or person.birth_date is not None,
        _ADDRESS: person.postcode is not None,
        _CONTACT: person.phone is not None,
    }
    return sorted(c for c, present in given.items() if present)


async def _insert_or_replay(session: AsyncSession, values: dict[str, Any]) -> tuple[Referral, bool]:
    """(referral, replayed). A key used before answers with that referral, or 422 for another body."""
    referral = await repo.insert_once(session, values)
    if referral is not None:
        return referral, False
    return await _made_before(session, values), True


async def _made_before(session: AsyncSession, values: dict[str, Any]) -> Referral:
    """The referral this caller's Idempotency-Key made before; 422 when it was for another request."""
    existing = await repo.by_idempotency_key(session, values["idempotency_scope"], values["idempotency_key"])
    if existing is None or existing.request_hash != values["request_hash"]:
        raise ValidationFailed(
            [
                FieldError(
                    ("header", "Idempotency-Key"),
                    "This key was used for a different request.",
                    "idempotency_key_reused",
                )
            ]
        )
    return existing


@dataclass(frozen=True)
class InboundDraft:
    """A partner's referral as the submitting statement will write it (``prepare_inbound``): ``read``
    is what the answer to the POST shows (the face that answers makes the answer of it); the rest is
    what the statement binds."""

    read: AnyReferralRead
    data: InboundReferralCreate
    key: KeyRequest
    row: dict[str, Any]  # every column of the referral (``repo.new_row``)
    transition: dict[str, Any]
    buurt_code: str | None  # the buurt named, or found for the address (None: the address is not placed)
    by_postcode: bool


@dataclass(frozen=True)
class Inbound:
    """A partner's POST done: the referral, and whether it was made before (the key store had
    forgotten the key, the referral had not: the answer is the earlier referral, a replay, and its
    key is claimed without an answer yet)."""

    read: AnyReferralRead
    replayed: bool


async def prepare_inbound(
    uow: UnitOfWork, principal: Principal, data: InboundReferralCreate, *, key: KeyRequest | None
) -> InboundDraft | Replay:
    """A partner's referral to the team, as ``submit_inbound`` will write it (the answer is known
    before: a new referral is exactly what was sent, routed to the buurt that was named), or the
    earlier answer to replay for its Idempotency-Key when it is refused before anything is written."""
    if side_of(principal) is not Side.partner or principal.organisation_id is None:
        raise Forbidden("Team members refer out from a household.", rule="partners_only")
    if key is None:
        raise IdempotencyKeyRequired("Partners must send an Idempotency-Key header with this POST.")
    person = data.person
    by_postcode = data.buurt_code is None and person.postcode is not None and person.house_number is not None
    basis_errors = _common_errors(True, data.legal_basis, data.legal_basis_note)
    if basis_errors or (data.buurt_code is None and not by_postcode):
        return await _refuse_early(uow, data, key)
    buurt_code = data.buurt_code or await _buurt_of(uow, person.postcode, person.house_number)
    values = _inbound_values(principal, data, key.key)
    row = repo.new_row(values)
    transition = new_transition(principal, values, from_status=None, side=Side.partner)
    read = present_data(row, [transition], buurt_code, partner=True)
    return InboundDraft(read, data, key, row, transition, buurt_code, by_postcode)


async def submit_inbound(
    uow: UnitOfWork, principal: Principal, draft: InboundDraft, answer: StoredAnswer
) -> Inbound | Replay:
    """Write the prepared referral, or say what its Idempotency-Key answered before.

    One statement claims the key together with ``answer`` (what the face answers for ``draft.read``),
    routes and writes the referral, its transition, its webhook event and the access-log row."""
    read, key = draft.read, draft.key
    # Queued before the statement: should the statement break, the attempt is on record (failed).
    entry = uow.log(
        principal, resource=RESOURCE, action=AccessAction.create, purpose=PURPOSE, resource_id=read.id
    )
    stored = replace(answer, resource=RESOURCE, resource_id=read.id)
    params = {**_event(principal, draft), **entry.params()}
    try:
        won = await _claim_and_write(uow, draft, params, stored)
    except DomainError:
        _made_nothing(uow, entry)
        raise
    if isinstance(won, Replay):
        _made_nothing(uow, entry)
        return won
    token, written = won
    if not written:  # the key store forgot this key, the referral did not: answer with that one
        _made_nothing(uow, entry)
        key.won(token, answered=False)
        return await _made_before_read(uow, principal, draft.row)
    key.won(token, answered=True)
    uow.written_by_statement(entry)
    return Inbound(read, replayed=False)


async def _claim_and_write(
    uow: UnitOfWork, draft: InboundDraft, params: dict[str, Any], answer: StoredAnswer
) -> tuple[uuid.UUID, bool] | Replay:
    """Run the statement until it wins the key (its claim token, and whether it wrote the referral),
    or the key's earlier answer to replay; 409 while another request holds the key, 422 for the rules
    the statement found broken.

    With no transaction open yet (the usual case: the buurt of an address is read on its own) and a
    buurt to route to, the statement first runs on its own, in one round trip without BEGIN and
    COMMIT: it then writes the referral and the claim of its key together or nothing at all. Anything
    but a new referral (a rule broken, the key in use or used before, a referral the key made before)
    is decided again below, in a transaction, exactly as it always was; a new referral, the common
    case, is done. An address the areas context did not place (no buurt code) is refused for certain,
    so it goes to the transaction at once.

    "Together or nothing" relies on one case being out of reach: the key won but the referral not
    written (its insert meets ``uq_referrals_idempotency``). That takes a referral with this key that
    the statement's snapshot does not see (``ready`` claims only when it sees none) while the key's
    row is gone or expired. It cannot happen because a referral's key row commits with it, done and
    kept for the retention period: while that request has not committed, it holds the key's advisory
    lock (``key_lock`` fails, nothing is claimed); once it has, a snapshot taken after sees the
    referral, and one taken just before finds its fresh key row, which ``claimed`` does not take
    over. Only a key row expired or purged within that instant would do. Were it reached, the key
    would be stored done with an answer naming a referral never written; ``submit_inbound`` then
    answers with the earlier referral and ``complete_claimed`` rewrites the key's answer, in a later
    transaction rather than the same one."""
    if not uow.in_transaction and draft.buurt_code is not None:
        token = uuid.uuid4()
        submitted = await _submit(uow, draft, params, answer, token, alone=True)
        if submitted.key_claim == token:
            _check_submitted(submitted, draft.data, draft.by_postcode)
            return token, submitted.written
    key = draft.key
    for _ in range(idempotency.CLAIM_ATTEMPTS):
        token = uuid.uuid4()
        submitted = await _submit(uow, draft, params, answer, token, alone=False)
        if submitted.key_claim == token:
            _check_submitted(submitted, draft.data, draft.by_postcode)
            return token, submitted.written
        if (replay := await idempotency.settle(uow, key, locked=submitted.key_locked)) is not None:
            return replay
    raise idempotency.in_flight()


async def _submit(
    uow: UnitOfWork,
    draft: InboundDraft,
    params: dict[str, Any],
    answer: StoredAnswer,
    token: uuid.UUID,
    *,
    alone: bool,
) -> repo.Submission:
    return await repo.submit_inbound(
        uow,
        draft.row,
        draft.transition,
        {**params, **draft.key.params(token, answer)},
        buurt_code=draft.buurt_code,
        alone=alone,
    )


def _made_nothing(uow: UnitOfWork, entry: AccessEntry) -> None:
    """The statement made no referral: its create entry goes (a refusal leaves no row, as one refused
    before the statement; a replay or the earlier referral is logged as a read)."""
    uow.discard(entry)


async def _refuse_early(uow: UnitOfWork, data: InboundReferralCreate, key: KeyRequest) -> Replay:
    """Refused before anything is written (the key is claimed first, as for any request, so a reused
    key still answers as such); the common rules are reported first, as for any referral."""
    claimed = await idempotency.claim(uow, key)
    if isinstance(claimed, Replay):
        return claimed
    errors = await _check_common(uow.session, data.reason_domain, data.legal_basis, data.legal_basis_note)
    raise ValidationFailed(errors) if errors else _address_or_buurt_required()


async def _buurt_of(uow: UnitOfWork, postcode: str | None, house_number: int | None) -> str | None:
    """The buurt an address lies in (the answer names it, the statement routes by it), None when the
    postcode table does not place it (the statement then refuses the referral as unroutable). Read on
    its own, outside a transaction, so the statement after it runs on its own too."""
    if postcode is None or house_number is None:
        return None
    return await areas.buurt_code_of_address(uow, postcode, house_number)


def _event(principal: Principal, draft: InboundDraft) -> dict[str, Any]:
    assert principal.organisation_id is not None  # a partner, checked by ``prepare_inbound``
    return outbox.event_params(
        event_type=EventType.submitted,
        organisation_id=principal.organisation_id,
        referral_id=draft.row["id"],
        consent_id=None,
        body=event_body(EventType.submitted, draft.row, draft.transition["occurred_at"]),
    )


def _check_submitted(submitted: repo.Submission, data: InboundReferralCreate, by_postcode: bool) -> None:
    """The rules the statement looked up: the common ones first, then the routing."""
    lookup = submitted.lookup
    errors = _common_errors(lookup.domain_active, data.legal_basis, data.legal_basis_note)
    if errors:
        raise ValidationFailed(errors)
    if refused := _routing_error(lookup, by_postcode):
        raise refused


async def _made_before_read(uow: UnitOfWork, principal: Principal, values: dict[str, Any]) -> Inbound:
    referral = await _made_before(uow.session, values)
    uow.log(principal, resource=RESOURCE, action=AccessAction.read, purpose=PURPOSE, resource_id=referral.id)
    return Inbound(await present_one(uow.session, principal, referral), replayed=True)


def _inbound_values(
    principal: Principal, data: InboundReferralCreate, idempotency_key: str
) -> dict[str, Any]:
    """The columns of a new inbound referral (its team and buurt come from the routing)."""
    return {
        "id": uuid.uuid4(),
        "direction": str(Direction.inbound),
        "status": str(ReferralStatus.submitted),
        "organisation_id": principal.organisation_id,
        **data.person.model_dump(),
        "shared_categories": _categories_given(data),
        "reason_domain": data.reason_domain,
        "urgency": str(data.urgency),
        "description": data.description,
        "legal_basis": str(data.legal_basis),
        "legal_basis_note": data.legal_basis_note,
        "idempotency_scope": principal.subject,
        "idempotency_key": idempotency_key,
        "request_hash": _request_hash(data),
    }


# -- outbound ---------------------------------------------------------------------------------------


async def _shared_under(
    session: AsyncSession, household: Household, data: OutboundReferralCreate
) -> tuple[Consent | None, set[str]]:
    """The consent relied on (if any) and the categories that may go along; 422 when not allowed."""
    requested = {str(c) for c in data.share} if data.share is not None else None
    if data.legal_basis is not LegalBasis.consent:
        if data.consent_id is not None:
            raise ValidationFailed(
                [FieldError(("body", "consent_id"), "Only taken with legal basis consent.", "not_applicable")]
            )
        return None, requested or set()
    consent = await consents_repo.find_in_force(
        session,
        household_id=household.id,
        member_id=data.member_id,
        organisation_id=data.organisation_id,
        purpose=data.reason_domain,
        consent_id=data.consent_id,
    )
    if consent is None:
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "consent_id" if data.consent_id else "legal_basis"),
                    "No consent in force covers this member, organisation and purpose.",
                    "consent_required",
                )
            ]
        )
    allowed = set(consent.categories)
    if requested is not None and not requested <= allowed:
        raise ValidationFailed(
            [FieldError(("body", "share"), "The consent does not cover all of these.", "consent_categories")]
        )
    return consent, requested if requested is not None else allowed


def _carried(member: Member, household: Household, shared: set[str], phone: str | None) -> dict[str, Any]:
    """The personal data the referral carries: a given name, plus each shared category."""
    identity, address = DataCategory.identity in shared, DataCategory.address in shared
    return {
        "given_name": member.given_name,
        "family_name": member.family_name if identity else None,
        "birth_date": member.birth_date if identity else None,
        "postcode": household.postcode if address else None,
        "house_number": household.house_number if address else None,
        "house_number_addition": household.house_number_addition if address else None,
        "phone": phone if DataCategory.contact in shared else None,
    }


async def refer_outbound(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    data: OutboundReferralCreate,
    *,
    idempotency_key: str | None = None,
) -> tuple[AnyReferralRead, bool]:
    """A worker refers a household member to a partner organisation (the plan action links to it)."""
    if side_of(principal) is not Side.team:
        raise Forbidden("Partners post inbound referrals.", rule="team_only")
    referral_id = uuid.uuid4()
    household = await get_visible(
        uow,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.create,
        resource_id=referral_id,
        person_id=data.member_id,
    )
    session = uow.session
    errors = await _check_common(session, data.reason_domain, data.legal_basis, data.legal_basis_note)
    member = await session.get(Member, data.member_id)
    if member is None or member.household_id != household.id:
        errors.append(FieldError(("body", "member_id"), "Not a member of this household.", "member_unknown"))
    if not await consents_repo.active_organisation(session, data.organisation_id):
        errors.append(
            FieldError(("body", "organisation_id"), "No such active organisation.", "organisation_unknown")
        )
    errors += await _service_errors(session, principal, data)
    if errors:
        raise ValidationFailed(errors)
    assert member is not None
    consent, shared = await _shared_under(session, household, data)
    action = await _plan_action(session, household.id, data.plan_action_id)
    if data.phone is not None and DataCategory.contact not in shared:
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "phone"), "Contact details are not among the shared data.", "category_not_shared"
                )
            ]
        )
    values: dict[str, Any] = {
        "id": referral_id,
        "direction": str(Direction.outbound),
        "status": str(ReferralStatus.submitted),
        "organisation_id": data.organisation_id,
        "team_id": household.team_id,
        "buurt_id": household.buurt_id,
        "household_id": household.id,
        "member_id": member.id,
        **_carried(member, household, shared, data.phone),
        "shared_categories": sorted(shared),
        "reason_domain": data.reason_domain,
        "urgency": str(data.urgency),
        "description": data.description,
        "legal_basis": str(data.legal_basis),
        "legal_basis_note": data.legal_basis_note,
        "consent_id": consent.id if consent else None,
        "service_id": data.service_id,
        "requested_by_worker_id": principal.worker_id,
        "idempotency_scope": principal.subject if idempotency_key else None,
        "idempotency_key": idempotency_key,
        "request_hash": _request_hash(data),
    }
    referral, replayed = await _insert_or_replay(session, values)
    if not replayed:
        await record_transition(uow, principal, referral, from_status=None, side=Side.team)
        if action is not None:
            plan_id = await repo.link_plan_action(session, action, referral.id)
            uow.record_change(ChangeRecord(household.id, "plan", plan_id))
    return await present_one(session, principal, referral), replayed


async def _service_errors(
    session: AsyncSession, principal: Principal, data: OutboundReferralCreate
) -> list[FieldError]:
    """The service asked for: one the caller may see, active, of the receiving organisation."""
    if data.service_id is None:
        return []
    states = await offers.service_states(session, [data.service_id], internal=sees_internal(principal))
    failed = service_failures(states.get(data.service_id), partner=data.organisation_id)
    return [FieldError(("body", field), message, rule) for field, message, rule in offer_problems(failed)]


async def _plan_action(
    session: AsyncSession, household_id: uuid.UUID, action_id: uuid.UUID | None
) -> PlanAction | None:
    if action_id is None:
        return None
    found = await repo.plan_action_for_update(session, household_id, action_id)
    if found is None:
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "plan_action_id"),
                    "Not an action of this household's active plan.",
                    "plan_action_unknown",
                )
            ]
        )
    action, linked_status = found
    rules.check_plan_action(action.performer_kind, action.done, linked_status)
    return action
