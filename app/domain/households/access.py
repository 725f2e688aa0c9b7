"""Who may see which household: the one object rule of the case file, expressed in SQL.

Every list, search, sync, export and sub-resource filters with ``visible_to`` (in the same query),
and every single-household route goes through ``get_visible``, which logs the attempt and answers a
forbidden household exactly like a missing one.

The rule: generalists and team leads see households of the teams they are in *now*
(live membership, not the token's copy); a confidential household only when they coordinate it, are
assigned to it, or hold an unexpired break-glass grant for it. Every other role sees no case data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import col, select

from app.domain.errors import NotFound
from app.domain.households.models import BreakGlassGrant, Household, HouseholdAssignment, Member, MemberRole
from app.domain.identity.models import User
from app.domain.organisation.models import WorkerTeam
from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import Role

CASE_ROLES = frozenset({Role.generalist, Role.team_lead})


def in_own_team(principal: Principal) -> sa.ColumnElement[bool]:
    """The household belongs to a team the caller is a member of now."""
    if principal.role not in CASE_ROLES or principal.worker_id is None:
        return sa.false()
    teams = select(WorkerTeam.team_id).where(WorkerTeam.worker_id == principal.worker_id)
    return col(Household.team_id).in_(teams)


def _assigned(worker: uuid.UUID | None) -> sa.ColumnElement[bool]:
    return (
        select(HouseholdAssignment.household_id)
        .where(HouseholdAssignment.household_id == Household.id, HouseholdAssignment.worker_id == worker)
        .exists()
    )


def _broken_glass(worker: uuid.UUID | None) -> sa.ColumnElement[bool]:
    return (
        select(BreakGlassGrant.id)
        .where(
            BreakGlassGrant.household_id == Household.id,
            BreakGlassGrant.worker_id == worker,
            col(BreakGlassGrant.expires_at) > sa.func.now(),
        )
        .exists()
    )


def personally_involved(principal: Principal) -> sa.ColumnElement[bool]:
    """Coordinator, assigned worker, or an unexpired break-glass grant."""
    worker = principal.worker_id
    return sa.or_(col(Household.coordinator_id) == worker, _assigned(worker), _broken_glass(worker))


def visible_to(principal: Principal) -> sa.ColumnElement[bool]:
    """SQL condition on ``Household``: the caller may see this household's case file."""
    if principal.role not in CASE_ROLES or principal.worker_id is None:
        return sa.false()
    return sa.and_(
        in_own_team(principal),
        sa.or_(col(Household.confidential).is_(False), personally_involved(principal)),
    )


async def get_visible(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    resource: str,
    action: AccessAction,
    resource_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    for_update: bool = False,
) -> Household:
    """The household if the caller may see it; otherwise log the denial and raise NotFound.

    Queues exactly one access-log entry (allowed or denied) for the request.
    """
    query = select(Household).where(Household.id == household_id, visible_to(principal))
    if for_update:
        query = query.with_for_update()
    household = (await uow.session.execute(query)).scalar_one_or_none()
    outcome = AccessOutcome.allowed if household is not None else AccessOutcome.denied
    uow.log(
        principal,
        resource=resource,
        action=action,
        outcome=outcome,
        household_id=household_id,
        resource_id=resource_id,
        person_id=person_id,
    )
    if household is None:
        raise NotFound("household")
    return household


def caseload(principal: Principal) -> sa.ColumnElement[bool]:
    """The households that belong on the caller's phone (offline sync): ``visible_to`` without access
    that exists only through break glass — that is for the moment, online, and expires without a
    change-feed entry, so it must never leave copies on a device."""
    if principal.role not in CASE_ROLES or principal.worker_id is None:
        return sa.false()
    worker = principal.worker_id
    return sa.and_(
        in_own_team(principal),
        sa.or_(
            col(Household.confidential).is_(False),
            col(Household.coordinator_id) == worker,
            _assigned(worker),
        ),
    )


async def get_in_own_team(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    resource: str,
    action: AccessAction,
    resource_id: uuid.UUID | None = None,
    reason: str | None = None,
    for_update: bool = False,
) -> Household:
    """A household of one of the caller's teams, confidential or not, for team-level actions that do
    not open the file (assigning, handing over, breaking the glass). Logs exactly one row like
    ``get_visible`` and answers a household of another team exactly like a missing one."""
    query = select(Household).where(Household.id == household_id, in_own_team(principal))
    if for_update:
        query = query.with_for_update()
    household = (await uow.session.execute(query)).scalar_one_or_none()
    uow.log(
        principal,
        resource=resource,
        action=action,
        outcome=AccessOutcome.allowed if household is not None else AccessOutcome.denied,
        household_id=household_id,
        resource_id=resource_id,
        reason=reason,
    )
    if household is None:
        raise NotFound("household")
    return household


# -- the rule with the worker as a parameter, for statements compiled once ----------------------------

CASE_WORKER = sa.bindparam("worker_id", type_=sa.Uuid)


def takes_case_worker_rule(principal: Principal) -> bool:
    """Case workers, for whom ``visible_to`` is the worker rule; anyone else sees no household."""
    return principal.role in CASE_ROLES and principal.worker_id is not None


def _any_case_worker() -> Principal:
    return Principal(
        subject="",
        role=Role.generalist,
        scopes=frozenset(),
        client_id="",
        worker_id=cast(uuid.UUID, CASE_WORKER),
    )


def case_worker_rule() -> sa.ColumnElement[bool]:
    """``access.visible_to`` of any case worker, with the worker id as the parameter ``worker_id``."""
    return visible_to(_any_case_worker())


def case_worker_caseload() -> sa.ColumnElement[bool]:
    """``access.caseload`` of any case worker, with the worker id as the parameter ``worker_id``."""
    return caseload(_any_case_worker())


# -- a household member's own rule (self-service), in SQL --------------------------------------------


def household_on() -> sa.ColumnElement[bool]:
    """Self-service is on for the household (``households``): the coordinator's choice, or on unless
    confidential (SQL twin of ``self_service.rules.household_enabled``)."""
    return sa.func.coalesce(col(Household.self_service), sa.not_(col(Household.confidential)))


def member_on() -> sa.ColumnElement[bool]:
    """Self-service is on for the member (``members``): the coordinator's choice, or on unless a
    child (SQL twin of ``self_service.rules.member_enabled``)."""
    # The role written into the SQL, not bound: it is ours, and statements compiled once bind no constants.
    child: sa.ColumnElement[str] = sa.literal_column(f"'{MemberRole.child}'")
    return sa.func.coalesce(col(Member.self_service), col(Member.role) != child)


def switched_on() -> sa.ColumnElement[bool]:
    """Self-service is on for the member and their household (``members`` joined to ``households``)."""
    return sa.and_(household_on(), member_on())


def account_active(user_id: Any) -> sa.ColumnElement[bool]:
    """The member (``members``) signs in with this account, and it is active."""
    return (
        select(User.id)
        .where(col(User.id) == user_id, col(User.member_id) == col(Member.id), col(User.active).is_(True))
        .exists()
    )


def is_household_member(principal: Principal) -> bool:
    """A household member's sign-in, bound to one member of one household."""
    return (
        principal.role == Role.household_member
        and principal.member_id is not None
        and principal.household_id is not None
    )


HOUSEHOLD_MEMBER = sa.bindparam("self_member_id", type_=sa.Uuid)
MEMBER_ACCOUNT = sa.bindparam("self_user_id", type_=sa.Uuid)


def household_member_rule() -> sa.ColumnElement[bool]:
    """SQL condition on ``Household``: the signed-in member (parameters ``self_member_id`` and
    ``self_user_id``) belongs to it, self-service is on for both and the account is active: the object
    rule of every self-service request (``self_service.access.bound_member``), for statements
    compiled once."""
    member = (
        select(Member.id)
        .where(
            col(Member.id) == HOUSEHOLD_MEMBER,
            col(Member.household_id) == col(Household.id),
            member_on(),
            account_active(MEMBER_ACCOUNT),
        )
        .exists()
    )
    return sa.and_(household_on(), member)


@dataclass(frozen=True)
class StatementRule:
    """Who a statement compiled once lets into a household: ``condition`` is SQL on ``Household``
    over bound parameters, ``values`` those parameters for a caller the rule ``applies`` to.
    ``own_objects``: the caller may change only objects that name them (a member's own consent);
    ``hidden``: what a refusal says was not found when the household is not theirs to see."""

    name: str
    applies: Callable[[Principal], bool]
    condition: Callable[[], sa.ColumnElement[bool]]
    values: Callable[[Principal], dict[str, Any]]
    own_objects: bool = False
    hidden: str = "household"


CASE_WORKER_RULE = StatementRule(
    "case_worker", takes_case_worker_rule, case_worker_rule, lambda p: {"worker_id": p.worker_id}
)
HOUSEHOLD_MEMBER_RULE = StatementRule(
    "household_member",
    is_household_member,
    household_member_rule,
    lambda p: {"self_member_id": p.member_id, "self_user_id": p.user_id},
    own_objects=True,
    hidden="member",  # as every self-service answer when self-service is off (``bound_member``)
)
