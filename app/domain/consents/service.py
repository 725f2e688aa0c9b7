"""Consent use cases: record, list, read, withdraw. Case roles, through the household access rule; a
withdrawal also by the household member the consent is of (self-service), through the same statement.

Withdrawal takes effect at once: referrals resting on the consent disappear for the partner (their
visibility checks the consent in SQL), no new webhook event is queued for them, and deliveries still
waiting are cancelled here (the relay re-checks before every attempt as well).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.domain.assessments.casefile import reject
from app.domain.base import utcnow
from app.domain.consents import repository
from app.domain.consents.models import Consent
from app.domain.consents.rules import ConsentTerms, in_force
from app.domain.consents.schemas import ConsentCreate, ConsentRead
from app.domain.errors import Conflict, FieldError, NotFound
from app.domain.households.access import get_visible, is_household_member
from app.domain.households.case_outcome import Outcome
from app.domain.households.case_write import CaseInsert, CaseUpdate
from app.domain.households.models import RecordedBy
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.events import ConsentWithdrawn
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "consent"
SYNC_ENTITY = "consent"


def terms_of(consent: Consent | ConsentRead) -> ConsentTerms:
    return ConsentTerms(
        member_id=consent.member_id,
        organisation_id=consent.organisation_id,
        purpose=consent.purpose,
        categories=frozenset(consent.categories),
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        withdrawn=consent.withdrawn_at is not None,
    )


def to_read(consent: Consent | Mapping[str, Any], today: date) -> ConsentRead:
    """The read model of a consent: an ORM object, or its row as a case write answered it (JSON)."""
    if isinstance(consent, Consent):
        return ConsentRead.model_validate(
            {**consent.model_dump(), "in_force": in_force(terms_of(consent), today)}
        )
    read = ConsentRead.model_validate({**consent, "in_force": False})  # its dates read first
    return read.model_copy(update={"in_force": in_force(terms_of(read), today)})


# One statement per write (households.case_write): the access check, the consent, the checks of what
# it names, the change row and the entry. A consent is recorded and withdrawn in a closed file too.
RECORD = CaseInsert(
    Consent,
    (
        "id", "household_id", "member_id", "organisation_id", "purpose", "categories", "valid_until",
        "recorded_by_worker_id", "created_at",
    ),
    entity=SYNC_ENTITY,
    computed={"valid_from": sa.func.coalesce(repository.VALID_FROM, repository.LOCAL_TODAY)},
    row=True,
    open_file=False,
    checks=repository.record_checks(),
    reads={"today": repository.LOCAL_TODAY},
)  # fmt: skip
# The team withdraws any consent of the household; a member (self-service) only their own. The
# answer names the organisation and the purpose (what the member is shown).
LABELS = repository.consent_labels()
WITHDRAW = CaseUpdate(
    Consent,
    ("withdrawn_by_worker_id", "withdrawal_recorded_by"),
    entity=SYNC_ENTITY,
    computed={"withdrawn_at": sa.func.now()},
    conditions={"not_withdrawn": col(Consent.withdrawn_at).is_(None)},
    versioned=False,
    open_file=False,
    members_own="member_id",
    reads={"today": repository.LOCAL_TODAY, **LABELS},
)


def _record_errors(outcome: Outcome) -> list[FieldError]:
    """What the consent names that is not there, in the order always answered."""
    errors = [
        FieldError(loc, message, rule)
        for check, loc, message, rule in (
            ("member", ("body", "member_id"), "Not a member of this household.", "member_unknown"),
            (
                "organisation",
                ("body", "organisation_id"),
                "No such active organisation.",
                "organisation_unknown",
            ),
            ("purpose", ("body", "purpose"), "Not an active life-domain code.", "purpose_unknown"),
            ("period", ("body", "valid_until"), "Must not be before valid_from.", "period_order"),
        )
        if outcome.failed(check)
    ]
    return errors


async def record(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: ConsentCreate
) -> ConsentRead:
    row = {
        "id": uuid.uuid4(),
        "household_id": household_id,
        "member_id": data.member_id,
        "organisation_id": data.organisation_id,
        "purpose": data.purpose,
        "categories": sorted({str(c) for c in data.categories}),
        "valid_until": data.valid_until,
        "recorded_by_worker_id": principal.worker_id,
        "created_at": utcnow(),
    }
    entry = uow.log(principal, resource=RESOURCE, action=AccessAction.create, household_id=household_id)
    outcome = await RECORD.run(uow, principal, entry, row, params={"valid_from": data.valid_from})
    outcome.raise_unless_written(rules=lambda: reject(_record_errors(outcome)))
    assert outcome.row is not None
    return to_read(outcome.row, date.fromisoformat(outcome.reads["today"]))


async def list_consents(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[ConsentRead]:
    """Newest first."""
    await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.list)
    rows = await repository.list_for_household(uow.session, household_id, limit=limit, after=after)
    today = await repository.today(uow.session)
    return [to_read(c, today) for c in rows]


async def get(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentRead:
    await get_visible(
        uow, principal, household_id, resource=RESOURCE, action=AccessAction.read, resource_id=consent_id
    )
    consent = await repository.get(uow.session, household_id, consent_id)
    if consent is None:
        raise NotFound(RESOURCE)
    return to_read(consent, await repository.today(uow.session))


@dataclass(frozen=True)
class Withdrawn:
    """A withdrawal as written, with the organisation's name and the purpose's labels
    (``LABELS``)."""

    consent: ConsentRead
    labels: Mapping[str, str]


async def withdraw(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentRead:
    """The team records a withdrawal (``withdraw_by``)."""
    return (await withdraw_by(uow, principal, household_id, consent_id)).consent


async def withdraw_by(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    consent_id: uuid.UUID,
    *,
    purpose: str = "casework",
) -> Withdrawn:
    """Withdraw a consent, recorded as the team's, or as the member's when the member it is of
    withdraws it themself (self-service; their entry is about them, with the ``purpose`` given)."""
    # What rests on the consent stops at once, in the same transaction (the webhooks context cancels
    # queued deliveries).
    await uow.begin()
    by_member = is_household_member(principal)
    entry = uow.log(
        principal,
        resource=RESOURCE,
        action=AccessAction.update,
        purpose=purpose,
        household_id=household_id,
        resource_id=consent_id,
        person_id=principal.member_id if by_member else None,
    )
    recorded_by = RecordedBy.member if by_member else RecordedBy.team
    changes = {"withdrawn_by_worker_id": principal.worker_id, "withdrawal_recorded_by": str(recorded_by)}
    outcome = await WITHDRAW.run(uow, principal, entry, household_id, consent_id, None, changes)
    outcome.raise_unless_written(RESOURCE, object_id=consent_id, rules=_already_withdrawn)
    await uow.publish(ConsentWithdrawn(consent_id))
    assert outcome.row is not None
    read = to_read(outcome.row, date.fromisoformat(outcome.reads["today"]))
    return Withdrawn(read, {name: outcome.reads[name] for name in LABELS})


def _already_withdrawn() -> None:
    raise Conflict("This consent was already withdrawn.", rule="consent_already_withdrawn")
