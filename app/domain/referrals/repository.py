"""All SQL of the referrals context, including who may see which referral.

* A partner sees the referrals of its own organisation, and of those resting on a consent only while
  the consent is in force (withdrawal hides them at once).
* A team member sees an unlinked referral routed to a team they are in now, and a linked one when
  they may see its household (``visible_to``: confidential households included).
* Nobody else sees any.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.principal import Principal
from app.auth.scopes import Role
from app.domain.consents.models import Consent
from app.domain.consents.repository import in_force_clause
from app.domain.households.access import CASE_ROLES, visible_to
from app.domain.households.models import Household
from app.domain.organisation.models import Area, TeamArea, WorkerTeam
from app.domain.plans.models import Plan, PlanAction, PlanStatus
from app.domain.referrals.models import PostcodeArea, Referral, ReferralMessage, ReferralTransition

Keyset = tuple[datetime, uuid.UUID]


def visible(principal: Principal) -> sa.ColumnElement[bool]:
    """SQL condition on ``Referral``: the caller may see this referral."""
    if principal.role is Role.partner and principal.organisation_id is not None:
        consent_in_force = (
            select(Consent.id).where(Consent.id == Referral.consent_id, in_force_clause()).exists()
        )
        return sa.and_(
            col(Referral.organisation_id) == principal.organisation_id,
            sa.or_(col(Referral.consent_id).is_(None), consent_in_force),
        )
    if principal.role in CASE_ROLES and principal.worker_id is not None:
        own_teams = select(WorkerTeam.team_id).where(WorkerTeam.worker_id == principal.worker_id)
        household_visible = (
            select(Household.id).where(Household.id == Referral.household_id, visible_to(principal)).exists()
        )
        return sa.or_(
            sa.and_(col(Referral.household_id).is_(None), col(Referral.team_id).in_(own_teams)),
            sa.and_(col(Referral.household_id).is_not(None), household_visible),
        )
    return sa.false()


# -- routing ----------------------------------------------------------------------------------------


async def route_postcode(
    session: AsyncSession, postcode: str
) -> tuple[uuid.UUID, str, uuid.UUID | None] | None:
    """(buurt id, buurt code, covering team) for a postcode, or None when the postcode is not mapped."""
    query = (
        sa.select(col(Area.id), col(Area.code), col(TeamArea.team_id))
        .join(PostcodeArea, col(PostcodeArea.area_id) == col(Area.id))
        .outerjoin(TeamArea, col(TeamArea.area_id) == col(Area.id))
        .where(col(PostcodeArea.postcode) == postcode)
    )
    row = (await session.execute(query)).one_or_none()
    return (row[0], row[1], row[2]) if row is not None else None


# -- referrals --------------------------------------------------------------------------------------


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> Referral | None:
    """Insert the referral; None when the caller already used this Idempotency-Key (a concurrent
    duplicate waits for the first to commit, then lands here)."""
    statement = (
        insert(Referral)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_referrals_idempotency")
        .returning(Referral)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def by_idempotency_key(session: AsyncSession, scope: str, key: str) -> Referral | None:
    query = select(Referral).where(Referral.idempotency_scope == scope, Referral.idempotency_key == key)
    return (await session.execute(query)).scalar_one_or_none()


async def get_visible(
    session: AsyncSession, principal: Principal, referral_id: uuid.UUID, *, for_update: bool = False
) -> Referral | None:
    query = select(Referral).where(Referral.id == referral_id, visible(principal))
    if for_update:
        query = query.with_for_update(of=Referral)
    return (await session.execute(query)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    filters: list[sa.ColumnElement[bool]],
    *,
    limit: int,
    after: Keyset | None,
) -> list[Referral]:
    """Newest first, keyset-paginated on (created_at, id)."""
    query = select(Referral).where(visible(principal), *filters)
    if after is not None:
        query = query.where(sa.tuple_(col(Referral.created_at), col(Referral.id)) < sa.tuple_(*after))
    query = query.order_by(col(Referral.created_at).desc(), col(Referral.id).desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def buurt_codes(session: AsyncSession, area_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not area_ids:
        return {}
    rows = await session.execute(sa.select(col(Area.id), col(Area.code)).where(col(Area.id).in_(area_ids)))
    return {row[0]: row[1] for row in rows}


async def now(session: AsyncSession) -> datetime:
    value = await session.scalar(sa.select(sa.func.now()))
    assert value is not None
    return value


# -- transitions and messages ---------------------------------------------------------------------


async def add_transition(session: AsyncSession, transition: ReferralTransition) -> None:
    session.add(transition)
    await session.flush()


async def transitions_of(
    session: AsyncSession, referral_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ReferralTransition]]:
    """The transitions of several referrals in one query, oldest first."""
    found: dict[uuid.UUID, list[ReferralTransition]] = {rid: [] for rid in referral_ids}
    if referral_ids:
        query = (
            select(ReferralTransition)
            .where(col(ReferralTransition.referral_id).in_(referral_ids))
            .order_by(col(ReferralTransition.occurred_at), col(ReferralTransition.id))
        )
        for transition in (await session.execute(query)).scalars():
            found[transition.referral_id].append(transition)
    return found


async def add_message(session: AsyncSession, message: ReferralMessage) -> None:
    session.add(message)
    await session.flush()


async def messages_of(
    session: AsyncSession, referral_id: uuid.UUID, *, limit: int, after: Keyset | None
) -> list[ReferralMessage]:
    """Oldest first (a conversation), keyset-paginated on (created_at, id)."""
    query = select(ReferralMessage).where(ReferralMessage.referral_id == referral_id)
    if after is not None:
        query = query.where(
            sa.tuple_(col(ReferralMessage.created_at), col(ReferralMessage.id)) > sa.tuple_(*after)
        )
    query = query.order_by(col(ReferralMessage.created_at), col(ReferralMessage.id)).limit(limit)
    return list((await session.execute(query)).scalars())


# -- plan actions (the plans context leaves their referral link to this one) -----------------------


async def plan_action_for_update(
    session: AsyncSession, household_id: uuid.UUID, action_id: uuid.UUID
) -> tuple[PlanAction, str | None] | None:
    """An action of the household's active plan, locked, with the status of its current referral."""
    query = (
        select(PlanAction, Referral.status)
        .join(Plan, col(Plan.id) == col(PlanAction.plan_id))
        .outerjoin(Referral, col(Referral.id) == col(PlanAction.referral_id))
        .where(
            col(PlanAction.id) == action_id,
            col(Plan.household_id) == household_id,
            col(Plan.status) == PlanStatus.active,
        )
        .with_for_update(of=PlanAction)
    )
    row = (await session.execute(query)).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def link_plan_action(session: AsyncSession, action: PlanAction, referral_id: uuid.UUID) -> uuid.UUID:
    """Point the action at the referral; returns its plan id (for the change feed)."""
    action.referral_id = referral_id
    action.version += 1
    action.updated_at = await now(session)
    await session.flush()
    return action.plan_id
