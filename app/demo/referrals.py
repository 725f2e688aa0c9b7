"""Demo consents and referrals (band 50): both directions, both demo partners, every lifecycle state.

* Outbound: members of demo households referred to the debt-help partner (finances) and the housing
  corporation (housing), each under a consent recorded for it; states from submitted to completed,
  declined and cancelled, one of them resting on a consent that was later withdrawn. Where the
  household's active plan has a partner action without a referral yet, the action is linked to it.
* Inbound: referrals posted by each partner into buurten of both teams: one waiting, one accepted and
  linked to a household, one declined.

Demo history is written as rows, not through the services: no webhook subscriptions exist when the
demo loads, so no outbox events are made for it. A second load adds nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.demo import DemoContext, demo_loader
from app.domain.base import utcnow
from app.domain.consents.models import Consent, DataCategory
from app.domain.households.models import Household, HouseholdStatus, Member, RecordedBy
from app.domain.plans.models import PerformerKind, Plan, PlanAction, PlanStatus
from app.domain.referrals.models import (
    Direction,
    LegalBasis,
    Referral,
    ReferralMessage,
    ReferralStatus,
    ReferralTransition,
    Side,
    Urgency,
)
from app.domain.unit_of_work.work import UnitOfWork

S = ReferralStatus
PARTNERS = {"debt_help": "finances", "housing": "housing"}
# The path to each final state; the last outbound one rests on a consent that was withdrawn.
PATHS: dict[str, Sequence[ReferralStatus]] = {
    "waiting": (S.submitted,),
    "accepted": (S.submitted, S.accepted),
    "working": (S.submitted, S.accepted, S.in_progress),
    "done": (S.submitted, S.accepted, S.in_progress, S.completed),
    "declined": (S.submitted, S.declined),
    "cancelled": (S.submitted, S.accepted, S.cancelled),
    "withdrawn": (S.submitted, S.accepted, S.cancelled),
}
INBOUND = ("waiting", "accepted", "declined", "done")  # for each partner
TEXTS = {
    "finances": ("Betalingsachterstanden bij energie en zorgverzekering.", "Schuldregeling gestart."),
    "housing": (
        "Huurachterstand van drie maanden, dreigende ontruiming.",
        "Betalingsregeling huur afgesproken.",
    ),
}


@dataclass(frozen=True)
class DemoHousehold:
    id: uuid.UUID
    team_id: uuid.UUID
    buurt_id: uuid.UUID
    postcode: str
    house_number: int
    coordinator_id: uuid.UUID | None
    member: Member


@demo_loader(order=50)
async def referrals(uow: UnitOfWork, ctx: DemoContext) -> None:
    session = uow.session
    partners = {key: ctx.partners[key] for key in PARTNERS if key in ctx.partners}
    if len(partners) < len(PARTNERS) or await _already_loaded(session, list(partners.values())):
        return
    households = await _households(session, ctx, limit=2 * len(PATHS))
    if len(households) < 2:
        return
    free_actions = await _partner_actions_without_referral(session, [h.id for h in households])
    now = utcnow()
    links: list[tuple[PlanAction, Referral]] = []
    # A household may have several referrals: a small demo reuses its households.
    for index, path_name in enumerate([*PATHS] * 2):
        home, partner_key = households[index % len(households)], list(PARTNERS)[index % 2]
        started = now - timedelta(days=ctx.rng.randint(5, 60))
        referral = _outbound(session, home, partners[partner_key], PARTNERS[partner_key], path_name, started)
        _walk(session, referral, PATHS[path_name], started, ctx, partner_side=True)
        action = free_actions.pop(home.id, None)
        if action is not None:
            links.append((action, referral))
    for index, path_name in enumerate(sorted(INBOUND * 2, key=INBOUND.index)):
        home, partner_key = households[(3 * index + 1) % len(households)], list(PARTNERS)[index % 2]
        started = now - timedelta(days=ctx.rng.randint(1, 30))
        referral = _inbound(
            session, home, partners[partner_key], PARTNERS[partner_key], path_name, started, ctx
        )
        _walk(session, referral, PATHS[path_name], started, ctx, partner_side=False)
    await session.flush()  # the referrals exist before plan actions point at them
    for action, referral in links:
        action.referral_id = referral.id
    await session.flush()


async def _already_loaded(session: AsyncSession, partner_ids: list[uuid.UUID]) -> bool:
    query = select(Referral.id).where(col(Referral.organisation_id).in_(partner_ids)).limit(1)
    return (await session.execute(query)).first() is not None


async def _households(session: AsyncSession, ctx: DemoContext, *, limit: int) -> list[DemoHousehold]:
    """Active and aftercare demo households (stable order), each with its first adult member."""
    query = (
        select(Household, Member)
        .join(Member, col(Member.household_id) == col(Household.id))
        .where(
            col(Household.team_id).in_(list(ctx.teams.values())),
            col(Household.status).in_([HouseholdStatus.active, HouseholdStatus.aftercare]),
            col(Household.confidential).is_(False),
            col(Member.role).in_(["parent", "partner", "other_adult"]),
        )
        .order_by(col(Household.reference), col(Member.created_at), col(Member.id))
    )
    found: dict[uuid.UUID, DemoHousehold] = {}
    for household, member in (await session.execute(query)).all():
        if household.id not in found:
            found[household.id] = DemoHousehold(
                household.id,
                household.team_id,
                household.buurt_id,
                household.postcode,
                household.house_number,
                household.coordinator_id,
                member,
            )
        if len(found) == limit:
            break
    return list(found.values())


async def _partner_actions_without_referral(
    session: AsyncSession, household_ids: list[uuid.UUID]
) -> dict[uuid.UUID, PlanAction]:
    query = (
        select(Plan.household_id, PlanAction)
        .join(Plan, col(Plan.id) == col(PlanAction.plan_id))
        .where(
            col(Plan.household_id).in_(household_ids),
            col(Plan.status) == PlanStatus.active,
            col(PlanAction.performer_kind) == PerformerKind.partner,
            col(PlanAction.referral_id).is_(None),
        )
    )
    actions: dict[uuid.UUID, PlanAction] = {}
    for household_id, action in (await session.execute(query)).all():
        actions.setdefault(household_id, action)
    return actions


def _outbound(
    session: AsyncSession,
    home: DemoHousehold,
    partner_id: uuid.UUID,
    domain: str,
    path_name: str,
    started: datetime,
) -> Referral:
    member = home.member
    consent = Consent(
        household_id=home.id,
        member_id=member.id,
        organisation_id=partner_id,
        purpose=domain,
        categories=[DataCategory.identity, DataCategory.address],
        valid_from=(started - timedelta(days=1)).date(),
        recorded_by_worker_id=home.coordinator_id,
        withdrawn_at=started + timedelta(days=3) if path_name == "withdrawn" else None,
        withdrawn_by_worker_id=home.coordinator_id if path_name == "withdrawn" else None,
        withdrawal_recorded_by=str(RecordedBy.team) if path_name == "withdrawn" else None,
        created_at=started - timedelta(days=1),
    )
    session.add(consent)
    referral = Referral(
        direction=Direction.outbound,
        organisation_id=partner_id,
        team_id=home.team_id,
        buurt_id=home.buurt_id,
        household_id=home.id,
        member_id=member.id,
        given_name=member.given_name,
        family_name=member.family_name,
        birth_date=member.birth_date,
        postcode=home.postcode,
        house_number=home.house_number,
        shared_categories=[DataCategory.address, DataCategory.identity],
        reason_domain=domain,
        urgency=Urgency.routine,
        description=TEXTS[domain][0],
        legal_basis=LegalBasis.consent,
        consent_id=consent.id,
        requested_by_worker_id=home.coordinator_id,
        created_at=started,
    )
    session.add(referral)
    return referral


def _inbound(
    session: AsyncSession,
    home: DemoHousehold,
    partner_id: uuid.UUID,
    domain: str,
    path_name: str,
    started: datetime,
    ctx: DemoContext,
) -> Referral:
    linked = path_name in ("accepted", "done")
    referral = Referral(
        direction=Direction.inbound,
        organisation_id=partner_id,
        team_id=home.team_id,
        buurt_id=home.buurt_id,
        household_id=home.id if linked else None,
        member_id=home.member.id if linked else None,
        given_name=home.member.given_name if linked else ctx.rng.choice(["Noor", "Daan", "Fleur", "Milan"]),
        family_name=home.member.family_name if linked else None,
        postcode=home.postcode if linked else None,
        house_number=home.house_number if linked else None,
        shared_categories=[DataCategory.address, DataCategory.identity] if linked else [],
        reason_domain=domain,
        urgency=Urgency.urgent if domain == "housing" else Urgency.routine,
        description=TEXTS[domain][0],
        legal_basis=LegalBasis.legal_duty,
        legal_basis_note="Wgs: vroegsignalering van betalingsachterstanden",
        handled_by_worker_id=home.coordinator_id if path_name != "waiting" else None,
        idempotency_scope=f"demo:{partner_id}",
        idempotency_key=uuid.uuid4().hex,
        created_at=started,
    )
    session.add(referral)
    return referral


def _walk(
    session: AsyncSession,
    referral: Referral,
    path: Sequence[ReferralStatus],
    started: datetime,
    ctx: DemoContext,
    *,
    partner_side: bool,
) -> None:
    """Write the transitions of ``path`` (and a message on longer ones) and set the final state. Every
    moment lies between ``started`` and now: a demo's history never happens in the future."""
    recipient, sender = (Side.partner, Side.team) if partner_side else (Side.team, Side.partner)
    now = utcnow()
    moment, previous = started, None
    for index, status in enumerate(path):
        if index:
            # Clamped short of now, a minute per step still to come: the trail stays strictly in order
            # (a tie would leave which transition came last to chance).
            moment = min(
                moment + timedelta(hours=ctx.rng.randint(4, 96)), now - timedelta(minutes=len(path) - index)
            )
        side = sender if status in (S.submitted, S.cancelled) else recipient
        session.add(
            ReferralTransition(
                referral_id=referral.id,
                from_status=previous,
                to_status=status,
                side=side,
                actor_subject="demo",
                occurred_at=moment,
            )
        )
        previous = status
    final = path[-1]
    texts: dict[str, Any] = {
        S.declined: {"status_reason": "Past niet bij ons aanbod; verwezen naar het wijkteam."},
        S.cancelled: {"status_reason": "De bewoner wil geen hulp meer via deze organisatie."},
        S.completed: {"outcome": TEXTS[referral.reason_domain][1]},
    }.get(final, {})
    for name, value in texts.items():
        setattr(referral, name, value)
    referral.status, referral.version, referral.updated_at = final, len(path), moment
    if len(path) >= 3:
        session.add(
            ReferralMessage(
                referral_id=referral.id,
                side=recipient,
                author_subject="demo",
                body="Eerste gesprek gepland; we houden jullie op de hoogte.",
                created_at=min(started + timedelta(days=1), moment),
            )
        )
