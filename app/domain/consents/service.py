"""Consent use cases: record, list, read, withdraw. Case roles only, through the household access rule.

Withdrawal takes effect at once: referrals resting on the consent disappear for the partner (their
visibility checks the consent in SQL), no new webhook event is queued for them, and deliveries still
waiting are cancelled here (the relay re-checks before every attempt as well).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.consents import repository
from app.domain.consents.models import Consent
from app.domain.consents.rules import ConsentTerms, in_force
from app.domain.consents.schemas import ConsentCreate, ConsentRead
from app.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.models import RecordedBy
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.change_feed import ChangeRecord
from app.domain.unit_of_work.events import ConsentWithdrawn
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "consent"
SYNC_ENTITY = "consent"


def terms_of(consent: Consent) -> ConsentTerms:
    return ConsentTerms(
        member_id=consent.member_id,
        organisation_id=consent.organisation_id,
        purpose=consent.purpose,
        categories=frozenset(consent.categories),
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        withdrawn=consent.withdrawn_at is not None,
    )


def to_read(consent: Consent, today: date) -> ConsentRead:
    return ConsentRead.model_validate(
        {**consent.model_dump(), "in_force": in_force(terms_of(consent), today)}
    )


async def _check_create(
    session: AsyncSession, household_id: uuid.UUID, data: ConsentCreate, valid_from: date
) -> None:
    errors: list[FieldError] = []
    if not await repository.member_in_household(session, data.member_id, household_id):
        errors.append(FieldError(("body", "member_id"), "Not a member of this household.", "member_unknown"))
    if not await repository.active_organisation(session, data.organisation_id):
        errors.append(
            FieldError(("body", "organisation_id"), "No such active organisation.", "organisation_unknown")
        )
    if not await repository.active_life_domain(session, data.purpose):
        errors.append(FieldError(("body", "purpose"), "Not an active life-domain code.", "purpose_unknown"))
    if data.valid_until is not None and data.valid_until < valid_from:
        errors.append(FieldError(("body", "valid_until"), "Must not be before valid_from.", "period_order"))
    if errors:
        raise ValidationFailed(errors)


async def record(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: ConsentCreate
) -> ConsentRead:
    await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.create)
    session = uow.session
    today = await repository.today(session)
    valid_from = data.valid_from or today
    await _check_create(session, household_id, data, valid_from)
    consent = await repository.add(
        session,
        Consent(
            household_id=household_id,
            member_id=data.member_id,
            organisation_id=data.organisation_id,
            purpose=data.purpose,
            categories=sorted({str(c) for c in data.categories}),
            valid_from=valid_from,
            valid_until=data.valid_until,
            recorded_by_worker_id=principal.worker_id,
        ),
    )
    uow.record_change(ChangeRecord(household_id, SYNC_ENTITY, consent.id))
    return to_read(consent, today)


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


async def withdraw(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentRead:
    await get_visible(
        uow, principal, household_id, resource=RESOURCE, action=AccessAction.update, resource_id=consent_id
    )
    consent = await repository.get(uow.session, household_id, consent_id, for_update=True)
    if consent is None:
        raise NotFound(RESOURCE)
    await withdraw_consent(uow, consent, RecordedBy.team, principal.worker_id)
    return to_read(consent, await repository.today(uow.session))


async def withdraw_consent(
    uow: UnitOfWork, consent: Consent, recorded_by: RecordedBy, worker_id: uuid.UUID | None = None
) -> None:
    """Withdraw a consent (locked by the caller), whether the team records it or the member does it
    themself (self-service): the same effect either way, at once."""
    if consent.withdrawn_at is not None:
        raise Conflict("This consent was already withdrawn.", rule="consent_already_withdrawn")
    await repository.withdraw(uow.session, consent, recorded_by, worker_id)
    # What rests on the consent stops at once (the webhooks context cancels queued deliveries).
    await uow.publish(ConsentWithdrawn(consent.id))
    uow.record_change(ChangeRecord(consent.household_id, SYNC_ENTITY, consent.id))
