"""Every query of the self-service context: what a member is shown, the access log about them,
their account and activation codes, and the coordinator's overview."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of, utcnow
from app.domain.consents.models import Consent
from app.domain.documents import json_list, json_object
from app.domain.households.access import switched_on
from app.domain.households.models import Household, HouseholdStatus, Member, MemberRole
from app.domain.identity.models import User
from app.domain.organisation.models import Municipality, PartnerOrganisation, Team, Worker, WorkerTeam
from app.domain.plans.models import (
    PlanAction,
    PlanEvaluation,
    PlanEvaluationView,
    PlanGoal,
    PlanGoalEvaluation,
)
from app.domain.reference.models import LifeDomain
from app.domain.referrals.models import Referral
from app.domain.self_service.models import ActivationCode
from app.domain.self_service.rules import Candidate
from app.domain.self_service.schemas import GoalResultView
from app.domain.support_network.models import NetworkPerson
from app.domain.unit_of_work import partitions
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.security.scopes import Role

Cursor = tuple[datetime, uuid.UUID]

# -- the member's household ------------------------------------------------------------------------


async def household_facts(session: AsyncSession, household_id: uuid.UUID) -> RowMapping:
    """The household's team, coordinator and municipality names."""
    query: Any = (
        sa.select(
            col(Team.name).label("team"),
            col(Worker.name).label("coordinator"),
            col(Municipality.name).label("municipality"),
        )
        .select_from(Household)
        .join(Team, col(Team.id) == col(Household.team_id))
        .join(Municipality, col(Municipality.id) == col(Team.municipality_id))
        .outerjoin(Worker, col(Worker.id) == col(Household.coordinator_id))
        .where(col(Household.id) == household_id)
    )
    return (await session.execute(query)).mappings().one()


async def children(session: AsyncSession, household_id: uuid.UUID) -> list[Member]:
    query: Any = (
        select(Member)
        .where(col(Member.household_id) == household_id, col(Member.role) == str(MemberRole.child))
        .order_by(col(Member.created_at), col(Member.id))
    )
    return list((await session.scalars(query)).all())


# -- the plan, with the names it shows -------------------------------------------------------------


async def goals_of(session: AsyncSession, plan_id: uuid.UUID) -> list[RowMapping]:
    query: Any = (
        sa.select(
            col(PlanGoal.id),
            col(PlanGoal.target_score),
            col(PlanGoal.description),
            col(LifeDomain.code),
            col(LifeDomain.label_nl),
            col(LifeDomain.label_en),
        )
        .join(LifeDomain, col(LifeDomain.code) == col(PlanGoal.domain_code))
        .where(col(PlanGoal.plan_id) == plan_id)
        .order_by(col(PlanGoal.position), col(PlanGoal.created_at), col(PlanGoal.id))
    )
    return list((await session.execute(query)).mappings())


async def actions_of(session: AsyncSession, plan_id: uuid.UUID) -> list[RowMapping]:
    """The plan's actions with who performs them, by name: the network person's label, the worker's
    name, the organisation of the referral that carries a partner action."""
    query: Any = (
        sa.select(
            col(PlanAction.id),
            col(PlanAction.goal_id),
            col(PlanAction.description),
            col(PlanAction.performer_kind),
            col(PlanAction.due_date),
            col(PlanAction.done),
            sa.func.coalesce(col(NetworkPerson.label), col(Worker.name), col(PartnerOrganisation.name)).label(
                "performer_name"
            ),
        )
        .outerjoin(NetworkPerson, col(NetworkPerson.id) == col(PlanAction.network_person_id))
        .outerjoin(Worker, col(Worker.id) == col(PlanAction.worker_id))
        .outerjoin(Referral, col(Referral.id) == col(PlanAction.referral_id))
        .outerjoin(PartnerOrganisation, col(PartnerOrganisation.id) == col(Referral.organisation_id))
        .where(col(PlanAction.plan_id) == plan_id)
        .order_by(col(PlanAction.position), col(PlanAction.created_at), col(PlanAction.id))
    )
    return list((await session.execute(query)).mappings())


async def evaluations_of(session: AsyncSession, plan_id: uuid.UUID, member_id: uuid.UUID) -> list[RowMapping]:
    """The evaluations of the plan version, newest first, each with its goals' results in the goals'
    order and the member's own view (never another member's, nor the team's notes and scores)."""
    goals = (
        sa.select(
            json_list(
                json_object(
                    GoalResultView,
                    {"goal_id": col(PlanGoalEvaluation.goal_id), "result": col(PlanGoalEvaluation.result)},
                ),
                col(PlanGoal.position),
                col(PlanGoal.id),
            )
        )
        .select_from(PlanGoalEvaluation)
        .join(PlanGoal, col(PlanGoal.id) == col(PlanGoalEvaluation.goal_id))
        .where(col(PlanGoalEvaluation.evaluation_id) == col(PlanEvaluation.id))
        .scalar_subquery()
    )
    own = (
        sa.select(col(PlanEvaluationView.view))
        .where(
            col(PlanEvaluationView.evaluation_id) == col(PlanEvaluation.id),
            col(PlanEvaluationView.member_id) == member_id,
        )
        .scalar_subquery()
    )
    query: Any = (
        sa.select(
            col(PlanEvaluation.id),
            col(PlanEvaluation.evaluated_on),
            col(PlanEvaluation.household_view),
            goals.label("goals"),
            own.label("your_view"),
        )
        .where(col(PlanEvaluation.plan_id) == plan_id)
        .order_by(
            col(PlanEvaluation.evaluated_on).desc(),
            col(PlanEvaluation.created_at).desc(),
            col(PlanEvaluation.id),
        )
    )
    return list((await session.execute(query)).mappings())


# -- consents ---------------------------------------------------------------------------------------


async def own_consents(
    session: AsyncSession, member_id: uuid.UUID, *, limit: int, after: Cursor | None
) -> list[RowMapping]:
    """The member's consents, newest first, with the organisation's name and the purpose's labels."""
    query: Any = (
        sa.select(
            Consent,
            col(PartnerOrganisation.name).label("organisation"),
            col(LifeDomain.label_nl),
            col(LifeDomain.label_en),
        )
        .join(PartnerOrganisation, col(PartnerOrganisation.id) == col(Consent.organisation_id))
        .join(LifeDomain, col(LifeDomain.code) == col(Consent.purpose))
        .where(col(Consent.member_id) == member_id)
    )
    if after is not None:
        query = query.where(sa.tuple_(col(Consent.created_at), col(Consent.id)) < sa.tuple_(*after))
    query = query.order_by(col(Consent.created_at).desc(), col(Consent.id).desc()).limit(limit)
    return list((await session.execute(query)).mappings())


# -- the access log about a member -------------------------------------------------------------------

_log = table_of(AccessLogEntry)
_users = table_of(User)
_organisations = table_of(PartnerOrganisation)
_workers = table_of(Worker)


def about(
    member_id: uuid.UUID, household_id: uuid.UUID, *, with_children: bool, own_subject: str
) -> sa.ColumnElement[bool]:
    """The rows a member is shown: about them, or about their household as a whole or (for adults,
    ``with_children``) its children, but not about another adult; their own actions left out (they
    know what they did, and each visit would otherwise add to the list it shows)."""
    c = _log.c
    about_household = [c.person_id.is_(None)]
    if with_children:
        children = select(col(Member.id)).where(
            col(Member.household_id) == household_id, col(Member.role) == str(MemberRole.child)
        )
        about_household.append(c.person_id.in_(children))
    household_rows = sa.and_(c.household_id == household_id, sa.or_(*about_household))
    own = sa.and_(c.actor_role == str(Role.household_member), c.actor_subject == own_subject)
    return sa.and_(sa.or_(c.person_id == member_id, household_rows), sa.not_(own))


def _municipality(household_id: uuid.UUID) -> sa.ScalarSelect[Any]:
    """The name of the municipality the household's team belongs to (computed once per statement)."""
    return (
        sa.select(col(Municipality.name))
        .select_from(Household)
        .join(Team, col(Team.id) == col(Household.team_id))
        .join(Municipality, col(Municipality.id) == col(Team.municipality_id))
        .where(col(Household.id) == household_id)
        .scalar_subquery()
    )


def _worker_teams() -> sa.ScalarSelect[Any]:
    """The names of the teams the acting worker belongs to, as one text."""
    return (
        sa.select(sa.func.string_agg(col(Team.name), sa.literal_column("', '")))
        .select_from(WorkerTeam)
        .join(Team, col(Team.id) == col(WorkerTeam.team_id))
        .where(col(WorkerTeam.worker_id) == _log.c.actor_worker_id)
        .scalar_subquery()
    )


async def access_rows(
    session: AsyncSession,
    household_id: uuid.UUID,
    where: sa.ColumnElement[bool],
    *,
    limit: int | None,
    after: Cursor | None = None,
    newest_first: bool = True,
) -> list[RowMapping]:
    """Access-log rows with what it takes to word them: the acting worker's name and teams, the
    partner organisation's name, the acting person's display name and (for household members) their
    household, and the municipality of ``household_id`` (the privacy officer's organisation)."""
    query: Any = (
        sa.select(
            _log.c.id,
            _log.c.occurred_at,
            _log.c.actor_role,
            _log.c.resource,
            _log.c.action,
            _log.c.purpose,
            _log.c.outcome,
            _log.c.reason,
            _workers.c.name.label("worker_name"),
            _worker_teams().label("worker_teams"),
            _organisations.c.name.label("organisation_name"),
            _users.c.display_name.label("user_name"),
            _users.c.household_id.label("actor_household_id"),
            _municipality(household_id).label("municipality"),
        )
        .select_from(
            _log.outerjoin(_workers, _workers.c.id == _log.c.actor_worker_id)
            .outerjoin(_organisations, _organisations.c.id == _log.c.organisation_id)
            .outerjoin(_users, sa.cast(_users.c.id, sa.String) == _log.c.actor_subject)
        )
        .where(where)
    )
    if after is not None:
        # The row comparison keeps the order; the moment alone lets PostgreSQL prune later months.
        query = query.where(
            sa.tuple_(_log.c.occurred_at, _log.c.id) < sa.tuple_(*after), _log.c.occurred_at <= after[0]
        )
    order = (_log.c.occurred_at.desc(), _log.c.id.desc()) if newest_first else (_log.c.occurred_at, _log.c.id)
    if newest_first and limit is not None:
        # A page, newest first: the recent months first (the log is partitioned by month).
        async def read(bound: sa.ColumnElement[bool], count: int) -> list[RowMapping]:
            page = query.where(bound).order_by(*order).limit(count)
            return list((await session.execute(page)).mappings())

        upper = after[0] if after is not None else utcnow()
        return await partitions.newest_first(read, _log.c.occurred_at, limit=limit, upper=upper)
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).mappings())


# -- accounts and activation codes ---------------------------------------------------------------------


async def account_of(session: AsyncSession, member_id: uuid.UUID, *, for_update: bool = False) -> User | None:
    query: Any = select(User).where(col(User.member_id) == member_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def ensure_account(session: AsyncSession, member: Member, username: str) -> User:
    """The member's account, made now (without a password) when they have none yet. Safe under
    concurrent first sign-ins: the member link is unique, the second insert does nothing."""
    await session.execute(
        insert(User)
        .values(
            id=uuid.uuid4(),
            username=username,
            display_name=member.given_name,
            role=str(Role.household_member),
            member_id=member.id,
            household_id=member.household_id,
        )
        .on_conflict_do_nothing(index_elements=[col(User.member_id)])
    )
    account = await account_of(session, member.id)
    assert account is not None
    return account


async def accounts_of_household(session: AsyncSession, household_id: uuid.UUID) -> list[User]:
    return list((await session.scalars(select(User).where(col(User.household_id) == household_id))).all())


async def revoke_codes(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> None:
    """Unused codes of these accounts stop working (a newer code, or self-service switched off)."""
    if not user_ids:
        return
    await session.execute(
        sa.update(ActivationCode)
        .where(
            col(ActivationCode.user_id).in_(list(user_ids)),
            col(ActivationCode.used_at).is_(None),
            col(ActivationCode.revoked_at).is_(None),
        )
        .values(revoked_at=sa.func.now())
    )


async def add_code(session: AsyncSession, code: ActivationCode) -> ActivationCode:
    # Codes of no further use (expired, used, revoked a day ago) are cleared out as new ones are made.
    await session.execute(
        sa.delete(ActivationCode).where(
            sa.or_(
                col(ActivationCode.expires_at) < utcnow(),
                col(ActivationCode.used_at).is_not(None),
                col(ActivationCode.revoked_at).is_not(None),
            ),
            col(ActivationCode.created_at) < sa.func.now() - sa.text("interval '1 day'"),
        )
    )
    session.add(code)
    await session.flush()
    return code


async def claim_code(session: AsyncSession, code_hash: str) -> ActivationCode | None:
    """Use the code up if it is still good: one statement, so two tries at once cannot both win."""
    claimed = await session.execute(
        sa.update(ActivationCode)
        .where(
            col(ActivationCode.code_hash) == code_hash,
            col(ActivationCode.used_at).is_(None),
            col(ActivationCode.revoked_at).is_(None),
            col(ActivationCode.expires_at) > sa.func.now(),
        )
        .values(used_at=sa.func.now())
        .returning(ActivationCode)
    )
    return claimed.scalar_one_or_none()


async def peek_code(session: AsyncSession, code_hash: str) -> ActivationCode | None:
    """The code if it is still good, without using it (to check the rest of the form first)."""
    query: Any = select(ActivationCode).where(
        col(ActivationCode.code_hash) == code_hash,
        col(ActivationCode.used_at).is_(None),
        col(ActivationCode.revoked_at).is_(None),
        col(ActivationCode.expires_at) > sa.func.now(),
    )
    return (await session.execute(query)).scalar_one_or_none()


async def member_of_account(
    session: AsyncSession, user_id: uuid.UUID
) -> tuple[User, Member, Household] | None:
    """An account with its member and household, while self-service is on for them."""
    query: Any = (
        select(User, Member, Household)
        .join(Member, col(Member.id) == col(User.member_id))
        .join(Household, col(Household.id) == col(Member.household_id))
        .where(col(User.id) == user_id, switched_on())
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1], row[2]) if row is not None else None


# -- signing in with a BSN -----------------------------------------------------------------------------


async def candidates_for_bsn(session: AsyncSession, bsn_index: str) -> list[Candidate]:
    """The member rows with this BSN whose self-service is on."""
    query: Any = (
        sa.select(
            col(Member.id),
            col(Member.household_id),
            col(Household.status) == str(HouseholdStatus.closed),
            col(Member.created_at),
        )
        .join(Household, col(Household.id) == col(Member.household_id))
        .where(col(Member.bsn_index) == bsn_index, switched_on())
    )
    return [Candidate(*row) for row in await session.execute(query)]


async def member(session: AsyncSession, member_id: uuid.UUID) -> Member | None:
    return await session.get(Member, member_id)


# -- the coordinator's overview -----------------------------------------------------------------------


async def status_rows(session: AsyncSession, household_id: uuid.UUID) -> list[RowMapping]:
    """Each member with their choice, whether self-service is on for them, their account and the
    expiry of a pending activation code."""
    pending = (
        sa.select(sa.func.max(col(ActivationCode.expires_at)))
        .where(
            col(ActivationCode.user_id) == col(User.id),
            col(ActivationCode.used_at).is_(None),
            col(ActivationCode.revoked_at).is_(None),
            col(ActivationCode.expires_at) > sa.func.now(),
        )
        .scalar_subquery()
    )
    query: Any = (
        sa.select(
            col(Member.id).label("member_id"),
            col(Member.given_name),
            col(Member.role),
            col(Member.self_service).label("choice"),
            switched_on().label("enabled"),
            col(User.username),
            (col(User.password_hash).is_not(None)).label("activated"),
            col(User.active),
            pending.label("activation_code_expires_at"),
        )
        .join(Household, col(Household.id) == col(Member.household_id))
        .outerjoin(User, col(User.member_id) == col(Member.id))
        .where(col(Member.household_id) == household_id)
        .order_by(col(Member.created_at), col(Member.id))
    )
    return list((await session.execute(query)).mappings())
