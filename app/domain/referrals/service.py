"""Referral use cases after intake: read, list, move through the lifecycle, exchange messages.

Every change writes its transition row and queues its webhook event (the outbox) in the caller's
transaction, so a change and its event commit together or not at all. Every access, allowed or
denied, writes one access-log row; a referral the caller may not see answers like a missing one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.base import iso_timestamp, utcnow
from app.domain.consents import repository as consents_repo
from app.domain.consents.rules import local_today
from app.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from app.domain.households import service as households
from app.domain.households.access import CASE_ROLES, get_visible
from app.domain.households.bsn import BsnProtector
from app.domain.households.schemas import HouseholdCreate, MemberCreate
from app.domain.referrals import repository as repo
from app.domain.referrals import rules
from app.domain.referrals.models import (
    Direction,
    Referral,
    ReferralMessage,
    ReferralStatus,
    ReferralTransition,
    Side,
)
from app.domain.referrals.repository import Keyset
from app.domain.referrals.schemas import (
    MessageCreate,
    MessageRead,
    NewHousehold,
    PartnerReferralRead,
    PersonRead,
    ReferralRead,
    TransitionCreate,
    TransitionRead,
)
from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome, Shown
from app.domain.unit_of_work.change_feed import ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork
from app.domain.webhooks import outbox
from app.domain.webhooks.models import EventType
from app.security.principal import Principal
from app.security.scopes import Role

RESOURCE = "referral"
SYNC_ENTITY = "referral"
MESSAGE = "referral_message"
PURPOSE = "referral"

EVENT_FOR: dict[ReferralStatus, EventType] = {
    ReferralStatus.submitted: EventType.submitted,
    ReferralStatus.accepted: EventType.accepted,
    ReferralStatus.declined: EventType.declined,
    ReferralStatus.in_progress: EventType.in_progress,
    ReferralStatus.completed: EventType.completed,
    ReferralStatus.cancelled: EventType.cancelled,
}

AnyReferralRead = ReferralRead | PartnerReferralRead


def side_of(principal: Principal) -> Side:
    """Partners act for their organisation, team members for the team; nobody else handles referrals."""
    if principal.role is Role.partner and principal.organisation_id is not None:
        return Side.partner
    if principal.role in CASE_ROLES and principal.worker_id is not None:
        return Side.team
    raise Forbidden("Referrals are handled by team members and partner organisations.", rule="referrals_role")


# -- presenting -----------------------------------------------------------------------------------


def present(
    referral: Referral, transitions: list[ReferralTransition], buurt_code: str | None, *, partner: bool
) -> AnyReferralRead:
    """The team's view, or the partner's (only what the referral carries)."""
    return present_data(
        referral.model_dump(), [t.model_dump() for t in transitions], buurt_code, partner=partner
    )


def present_data(
    data: dict[str, Any], transitions: list[dict[str, Any]], buurt_code: str | None, *, partner: bool
) -> AnyReferralRead:
    """``present`` from the referral's and its transitions' column values."""
    direction = Direction(data["direction"])
    shown: dict[str, Any] = {
        **data,
        "person": PersonRead.model_validate(data),
        "buurt_code": buurt_code
        if not partner or rules.partner_sees_buurt(direction, data["shared_categories"])
        else None,
        "transitions": [TransitionRead.model_validate(t) for t in transitions],
    }
    return PartnerReferralRead.model_validate(shown) if partner else ReferralRead.model_validate(shown)


async def present_many(
    session: AsyncSession, referrals: list[Referral], *, partner: bool
) -> list[AnyReferralRead]:
    """Two queries whatever the number of referrals: their transitions and their buurt codes."""
    transitions = await repo.transitions_of(session, [r.id for r in referrals])
    codes = await repo.buurt_codes(session, {r.buurt_id for r in referrals if r.buurt_id is not None})
    return [
        present(r, transitions[r.id], codes.get(r.buurt_id) if r.buurt_id else None, partner=partner)
        for r in referrals
    ]


async def present_for(
    session: AsyncSession, principal: Principal, referrals: list[Referral]
) -> list[AnyReferralRead]:
    return await present_many(session, referrals, partner=side_of(principal) is Side.partner)


async def present_one(session: AsyncSession, principal: Principal, referral: Referral) -> AnyReferralRead:
    return (await present_for(session, principal, [referral]))[0]


# -- access ---------------------------------------------------------------------------------------


async def visible_or_404(
    uow: UnitOfWork,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    action: AccessAction,
    resource: str = RESOURCE,
    for_update: bool = False,
) -> Referral:
    """The referral if the caller may see it; one access-log row either way."""
    side_of(principal)
    referral = await repo.get_visible(uow.session, principal, referral_id, for_update=for_update)
    uow.log(
        principal,
        resource=resource,
        action=action,
        outcome=AccessOutcome.allowed if referral else AccessOutcome.denied,
        purpose=PURPOSE,
        household_id=referral.household_id if referral else None,
        person_id=referral.member_id if referral else None,
        resource_id=referral_id,
    )
    if referral is None:
        raise NotFound(RESOURCE)
    return referral


async def get(uow: UnitOfWork, principal: Principal, referral_id: uuid.UUID) -> AnyReferralRead:
    referral = await visible_or_404(uow, principal, referral_id, action=AccessAction.read)
    return await present_one(uow.session, principal, referral)


@dataclass(frozen=True)
class ReferralFilters:
    status: ReferralStatus | None = None
    direction: Direction | None = None
    household_id: uuid.UUID | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.status is not None:
            clauses.append(col(Referral.status) == str(self.status))
        if self.direction is not None:
            clauses.append(col(Referral.direction) == str(self.direction))
        if self.household_id is not None:
            clauses.append(col(Referral.household_id) == self.household_id)
        return clauses


async def list_referrals(
    uow: UnitOfWork, principal: Principal, filters: ReferralFilters, *, limit: int, after: Keyset | None
) -> list[AnyReferralRead]:
    """Partners: their organisation's referrals (both directions); team members: their teams'."""
    side_of(principal)
    referrals = await repo.list_visible(uow.session, principal, filters.where(), limit=limit, after=after)
    shown = [Shown(r.household_id, r.member_id, r.id) for r in referrals]
    uow.log_each(principal, shown, resource=RESOURCE, action=AccessAction.list, purpose=PURPOSE)
    return await present_for(uow.session, principal, referrals)


async def list_for_household(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, *, limit: int, after: Keyset | None
) -> list[AnyReferralRead]:
    """A household's referrals, for the coordinator's overview (the household access rule applies)."""
    await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.list)
    referrals = await repo.list_visible(
        uow.session, principal, ReferralFilters(household_id=household_id).where(), limit=limit, after=after
    )
    return await present_for(uow.session, principal, referrals)


# -- changes --------------------------------------------------------------------------------------


def new_transition(
    principal: Principal, referral: dict[str, Any], *, from_status: ReferralStatus | None, side: Side
) -> dict[str, Any]:
    """The columns of the transition that brought ``referral`` (its id and status) where it is now."""
    return {
        "id": uuid.uuid4(),
        "referral_id": referral["id"],
        "from_status": str(from_status) if from_status else None,
        "to_status": referral["status"],
        "side": str(side),
        "actor_subject": principal.subject,
        "worker_id": principal.worker_id,
        "organisation_id": principal.organisation_id,
        "occurred_at": utcnow(),
    }


async def record_transition(
    uow: UnitOfWork,
    principal: Principal,
    referral: Referral,
    *,
    from_status: ReferralStatus | None,
    side: Side,
) -> dict[str, Any]:
    """The transition row, its webhook event and (for the team's phones) its change, in the caller's
    transaction. Returns the transition's columns."""
    transition = new_transition(
        principal, {"id": referral.id, "status": referral.status}, from_status=from_status, side=side
    )
    await repo.add_transition(uow.session, transition)
    await emit(uow, referral, EVENT_FOR[ReferralStatus(referral.status)], transition["occurred_at"])
    _feed_sync(uow, referral)
    return transition


def _feed_sync(uow: UnitOfWork, referral: Referral) -> None:
    """Referrals linked to a household travel to the team's phones with the rest of its file."""
    if referral.household_id is not None:
        uow.record_change(ChangeRecord(referral.household_id, SYNC_ENTITY, referral.id))


async def emit(
    uow: UnitOfWork,
    referral: Referral,
    event_type: EventType,
    occurred_at: datetime,
    **extra: str,
) -> None:
    """Queue the webhook event of a change, in the work's transaction (it goes out only if the change
    commits)."""
    await outbox.enqueue(
        uow,
        event_type=event_type,
        organisation_id=referral.organisation_id,
        referral_id=referral.id,
        consent_id=referral.consent_id,
        body=event_body(event_type, referral.model_dump(), occurred_at, **extra),
    )


def event_body(
    event_type: EventType, referral: dict[str, Any], occurred_at: datetime, **extra: str
) -> dict[str, Any]:
    """The thin webhook payload of an event about ``referral`` (its id, direction and status, and the
    id of the partner's service asked for when it names one)."""
    data = {
        "referral_id": str(referral["id"]),
        "direction": referral["direction"],
        "status": referral["status"],
        "occurred_at": iso_timestamp(occurred_at),
        **extra,
    }
    if referral.get("service_id") is not None:
        data["service_id"] = str(referral["service_id"])
    return outbox.payload(event_type, occurred_at, data)


def _link_fields_given(data: TransitionCreate) -> list[str]:
    return [
        name for name in ("household_id", "member_id", "new_household") if getattr(data, name) is not None
    ]


async def transition(
    uow: UnitOfWork,
    principal: Principal,
    referral_id: uuid.UUID,
    data: TransitionCreate,
    *,
    protector: BsnProtector | None = None,
) -> AnyReferralRead:
    """Move the referral to ``data.status`` (409 naming the rule when the lifecycle forbids it)."""
    side = side_of(principal)
    referral = await visible_or_404(uow, principal, referral_id, action=AccessAction.update, for_update=True)
    direction, current = Direction(referral.direction), ReferralStatus(referral.status)
    rules.check_transition(
        direction=direction,
        current=current,
        target=data.status,
        side=side,
        reason=data.reason,
        outcome=data.outcome,
    )
    links_household = direction is Direction.inbound and data.status is ReferralStatus.accepted
    if links_household:
        await _link_household(uow, principal, referral, data, protector)
    elif given := _link_fields_given(data):
        raise ValidationFailed(
            [
                FieldError(("body", n), "Only taken when accepting an inbound referral.", "not_applicable")
                for n in given
            ]
        )
    referral.status = str(data.status)
    if data.reason is not None:
        referral.status_reason = data.reason
    if data.outcome is not None:
        referral.outcome = data.outcome
    if side is Side.team:
        referral.handled_by_worker_id = principal.worker_id
    referral.version += 1
    referral.updated_at = await repo.now(uow.session)
    await uow.session.flush()
    await record_transition(uow, principal, referral, from_status=current, side=side)
    return await present_one(uow.session, principal, referral)


async def _link_household(
    uow: UnitOfWork,
    principal: Principal,
    referral: Referral,
    data: TransitionCreate,
    protector: BsnProtector | None,
) -> None:
    """Accepting an inbound referral links it to a household of the caller's, or creates one."""
    if (data.household_id is None) == (data.new_household is None):
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "household_id"),
                    "Accepting needs exactly one of household_id and new_household.",
                    "household_link_required",
                )
            ]
        )
    if data.household_id is not None:
        await _link_existing(uow, principal, referral, data.household_id, data.member_id)
        return
    if data.member_id is not None:
        raise ValidationFailed(
            [FieldError(("body", "member_id"), "Only taken with household_id.", "not_applicable")]
        )
    assert protector is not None and data.new_household is not None
    codes = await repo.buurt_codes(uow.session, {referral.buurt_id} if referral.buurt_id else set())
    new = _new_household(
        referral, data.new_household, codes.get(referral.buurt_id) if referral.buurt_id else None
    )
    created = await households.create_household(uow, principal, new, protector)
    referral.household_id, referral.team_id = created.id, created.team_id
    referral.member_id = created.members[0].id


async def _link_existing(
    uow: UnitOfWork,
    principal: Principal,
    referral: Referral,
    household_id: uuid.UUID,
    member_id: uuid.UUID | None,
) -> None:
    try:
        household = await get_visible(
            uow, principal, household_id, resource="household", action=AccessAction.update
        )
    except NotFound:
        raise ValidationFailed(
            [FieldError(("body", "household_id"), "No such household in your caseload.", "household_unknown")]
        ) from None
    if member_id is not None and not await consents_repo.member_in_household(
        uow.session, member_id, household_id
    ):
        raise ValidationFailed(
            [FieldError(("body", "member_id"), "Not a member of this household.", "member_unknown")]
        )
    referral.household_id, referral.team_id, referral.member_id = household.id, household.team_id, member_id


def _new_household(referral: Referral, given: NewHousehold, buurt_code: str | None) -> HouseholdCreate:
    postcode = given.postcode or referral.postcode
    house_number = given.house_number or referral.house_number
    if postcode is None or house_number is None:
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "new_household", "postcode"),
                    "The referral carries no address; give postcode and house_number.",
                    "address_required",
                )
            ]
        )
    today = local_today()
    try:
        return HouseholdCreate(
            postcode=postcode,
            house_number=house_number,
            house_number_addition=given.house_number_addition or referral.house_number_addition,
            buurt_code=buurt_code,
            team_id=referral.team_id,
            members=[
                MemberCreate(
                    given_name=referral.given_name,
                    family_name=referral.family_name,
                    birth_date=referral.birth_date,
                    role=given.role or rules.member_role_for(referral.birth_date, today),
                )
            ],
        )
    except ValidationError:
        raise ValidationFailed(
            [FieldError(("body", "new_household"), "The household cannot be made from this data.", "invalid")]
        ) from None


# -- messages -------------------------------------------------------------------------------------


async def post_message(
    uow: UnitOfWork, principal: Principal, referral_id: uuid.UUID, data: MessageCreate
) -> MessageRead:
    side = side_of(principal)
    referral = await visible_or_404(
        uow, principal, referral_id, action=AccessAction.create, resource=MESSAGE, for_update=True
    )
    message = ReferralMessage(
        referral_id=referral.id,
        side=str(side),
        author_subject=principal.subject,
        worker_id=principal.worker_id,
        organisation_id=principal.organisation_id,
        body=data.body,
    )
    await repo.add_message(uow.session, message)
    referral.updated_at = message.created_at
    await uow.session.flush()
    await emit(uow, referral, EventType.message, message.created_at, message_id=str(message.id))
    _feed_sync(uow, referral)
    return MessageRead.model_validate(message.model_dump())


async def list_messages(
    uow: UnitOfWork, principal: Principal, referral_id: uuid.UUID, *, limit: int, after: Keyset | None
) -> list[MessageRead]:
    """Oldest first (a conversation)."""
    referral = await visible_or_404(uow, principal, referral_id, action=AccessAction.list, resource=MESSAGE)
    rows = await repo.messages_of(uow.session, referral.id, limit=limit, after=after)
    return [MessageRead.model_validate(m.model_dump()) for m in rows]
