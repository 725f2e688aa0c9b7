"""Plan use cases: versions, reads, plan fields and the household's agreement.

The plan is one aggregate for mobile sync: any change to it, its goals or its actions records a
change of entity ``plan`` (the phone reloads the version as a whole). Goals and actions are in
``content.py``. Every use case goes through ``get_visible`` (one access-log row, 404 when hidden).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from app.domain.assessments.casefile import reject, touch
from app.domain.assessments.repository import member_here
from app.domain.assessments.service import check_domains, member_errors
from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.case_sql import OBJECT
from app.domain.households.case_write import CaseUpdate, Outcome
from app.domain.households.models import Household, RecordedBy
from app.domain.households.rules import ensure_open
from app.domain.plans import repository as repo
from app.domain.plans.models import Plan, PlanAction, PlanGoal, PlanStatus
from app.domain.plans.rules import (
    AGREED_PLAN_FIELDS,
    ensure_active,
    ensure_change_allowed,
    ensure_supersedes_active,
)
from app.domain.plans.schemas import (
    ActionRead,
    GoalRead,
    PlanAgreement,
    PlanHeader,
    PlanRead,
    PlanUpdate,
    PlanVersionCreate,
    VersionAction,
)
from app.domain.plans.sync_and_export import ENTITY
from app.domain.plans.validation import ActionLinks, check_actions
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.change_feed import ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "plan"
# Agreements recorded on a phone carry the phone's clock; allow it to run a little ahead.
CLOCK_SKEW = timedelta(minutes=5)
AGREED_BY = sa.bindparam("v_agreed_by_member_id", type_=sa.Uuid)


def goal_read(goal: PlanGoal) -> GoalRead:
    return GoalRead(
        id=goal.id,
        plan_id=goal.plan_id,
        domain=goal.domain_code,
        target_score=goal.target_score,
        description=goal.description,
        version=goal.version,
        created_at=goal.created_at,
        updated_at=goal.updated_at,
    )


def action_read(action: PlanAction) -> ActionRead:
    return ActionRead.model_validate(action, from_attributes=True)


def header(plan: Plan) -> PlanHeader:
    return PlanHeader.model_validate(plan, from_attributes=True)


async def plan_read(uow: UnitOfWork, plan: Plan) -> PlanRead:
    goals, actions = await repo.contents(uow.session, [plan.id])
    return PlanRead(
        **header(plan).model_dump(),
        goals=[goal_read(g) for g in goals[plan.id]],
        actions=[action_read(a) for a in actions[plan.id]],
    )


async def changed(uow: UnitOfWork, plan: Plan) -> None:
    """Bump the plan's version and tell sync the aggregate changed."""
    touch(plan)
    await uow.session.flush()
    uow.record_change(ChangeRecord(plan.household_id, ENTITY, plan.id))


async def existing_plan(
    uow: UnitOfWork, household_id: uuid.UUID, plan_id: uuid.UUID, *, for_update: bool = False
) -> Plan:
    plan = await repo.get(uow.session, household_id, plan_id, for_update=for_update)
    if plan is None:
        raise NotFound(RESOURCE)
    return plan


# -- reads ------------------------------------------------------------------------------------


async def read_active(uow: UnitOfWork, principal: Principal, household_id: uuid.UUID) -> PlanRead:
    await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.read)
    plan = await repo.active(uow.session, household_id)
    if plan is None:
        raise NotFound(RESOURCE)
    return await plan_read(uow, plan)


async def read(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, plan_id: uuid.UUID
) -> PlanRead:
    await get_visible(
        uow, principal, household_id, resource=RESOURCE, action=AccessAction.read, resource_id=plan_id
    )
    return await plan_read(uow, await existing_plan(uow, household_id, plan_id))


async def list_versions(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[int] | None,
) -> list[PlanHeader]:
    """Every version, newest first (``after``: the revision of the last one seen); headers only, one
    query."""
    await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.list)
    before = after[0] if after is not None else None
    return [
        header(p) for p in await repo.page(uow.session, household_id, before_revision=before, limit=limit)
    ]


# -- a new version ----------------------------------------------------------------------------


def _links(loc: tuple[str | int, ...], action: VersionAction) -> ActionLinks:
    return ActionLinks(
        loc,
        action.performer_kind,
        network_person_id=action.network_person_id,
        worker_id=action.worker_id,
        continues_action_id=action.continues_action_id,
    )


async def _validate_version(
    uow: UnitOfWork, household: Household, data: PlanVersionCreate, current: Plan | None
) -> dict[uuid.UUID, uuid.UUID | None]:
    errors = await check_domains(uow, [g.domain for g in data.goals], ("body", "goals"))
    links = [
        _links(("body", "goals", gi, "actions", ai), action)
        for gi, goal in enumerate(data.goals)
        for ai, action in enumerate(goal.actions)
    ] + [_links(("body", "actions", ai), action) for ai, action in enumerate(data.actions)]
    action_errors, continued = await check_actions(
        uow, household, links, superseded_plan_id=current.id if current else None
    )
    if errors + action_errors:
        raise ValidationFailed(errors + action_errors)
    return continued


def action_row(
    plan_id: uuid.UUID,
    goal_id: uuid.UUID | None,
    action: VersionAction,
    position: int,
    continued: dict[uuid.UUID, uuid.UUID | None],
    now: datetime,
) -> dict[str, Any]:
    referral = continued.get(action.continues_action_id) if action.continues_action_id else None
    return {
        "id": uuid.uuid4(),
        "plan_id": plan_id,
        "goal_id": goal_id,
        "description": action.description,
        "performer_kind": str(action.performer_kind),
        "network_person_id": action.network_person_id,
        "worker_id": action.worker_id,
        "referral_id": referral if action.performer_kind == "partner" else None,
        "due_date": action.due_date,
        "done": action.done,
        "done_at": now if action.done else None,
        "position": position,
    }


def _content_rows(
    plan_id: uuid.UUID, data: PlanVersionCreate, continued: dict[uuid.UUID, uuid.UUID | None], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    goals: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for position, goal in enumerate(data.goals):
        goal_id = uuid.uuid4()
        goals.append(
            {
                "id": goal_id,
                "plan_id": plan_id,
                "domain_code": goal.domain,
                "target_score": goal.target_score,
                "description": goal.description,
                "position": position,
            }
        )
        actions += [
            action_row(plan_id, goal_id, a, len(actions) + i, continued, now)
            for i, a in enumerate(goal.actions)
        ]
    actions += [
        action_row(plan_id, None, a, len(actions) + i, continued, now) for i, a in enumerate(data.actions)
    ]
    return goals, actions


async def new_version(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: PlanVersionCreate
) -> PlanRead:
    """Make a new version and supersede the active one, in this one transaction.

    The household row is locked first, so concurrent versions for one household queue up; the one
    that comes second no longer supersedes the active version and gets 409 ``stale_plan_version``.
    The partial unique index is the last line of defence.
    """
    new_id = uuid.uuid4()
    household = await get_visible(
        uow,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.create,
        resource_id=new_id,
        for_update=True,
    )
    ensure_open(household.status)
    current = await repo.active(uow.session, household_id, for_update=True)
    ensure_supersedes_active(current.id if current else None, data.supersedes_id)
    continued = await _validate_version(uow, household, data, current)
    now = utcnow()
    if current is not None:
        current.status = PlanStatus.superseded
        current.superseded_at = now
        await changed(uow, current)  # flushed before the new active row is inserted
    plan = Plan(
        id=new_id,
        household_id=household_id,
        revision=await repo.next_revision(uow.session, household_id),
        status=PlanStatus.active,
        supersedes_id=current.id if current else None,
        summary=data.summary,
        evaluation_date=data.evaluation_date,
        created_by=principal.worker_id,
    )
    uow.session.add(plan)
    await uow.session.flush()
    goal_rows, action_rows = _content_rows(new_id, data, continued, now)
    await repo.insert_many(uow.session, PlanGoal, goal_rows)
    await repo.insert_many(uow.session, PlanAction, action_rows)
    uow.record_change(ChangeRecord(household_id, ENTITY, new_id))
    return await plan_read(uow, plan)


# -- plan fields and agreement ----------------------------------------------------------------


@lru_cache(maxsize=16)
def _change(columns: frozenset[str]) -> CaseUpdate:
    """The change of these plan fields in one statement (``households.case_write``): the access
    check, the version, the plan's rules on its row, the change row and the entry; the answer carries
    the goals and actions too. An agreement checks its member."""
    checks = {"member": member_here(AGREED_BY)} if "agreed_by_member_id" in columns else {}
    return CaseUpdate(
        Plan,
        sorted(columns),
        entity=ENTITY,
        conditions=repo.PLAN_RULES,
        checks=checks,
        reads={"goals": repo.goals_json(OBJECT), "actions": repo.actions_json(OBJECT)},
    )


def _plan_read(outcome: Outcome) -> PlanRead:
    assert outcome.row is not None
    return PlanRead.model_validate({**outcome.row, **outcome.reads})


def _ensure_active(outcome: Outcome) -> None:
    ensure_active(PlanStatus.superseded if outcome.failed("active") else PlanStatus.active)


async def update(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: PlanUpdate,
    expected_version: ExpectedVersion,
) -> PlanRead:
    changes = data.model_dump(exclude_unset=True)
    entry = uow.log(
        principal,
        resource=RESOURCE,
        action=AccessAction.update,
        household_id=household_id,
        resource_id=plan_id,
    )
    outcome = await _change(frozenset(changes) | {"updated_at"}).run(
        uow,
        principal,
        entry,
        household_id,
        plan_id,
        expected_version,
        changes | {"updated_at": utcnow()},
        params={"progress_only": set(changes) <= AGREED_PLAN_FIELDS},
    )

    def refused() -> None:
        _ensure_active(outcome)
        ensure_change_allowed(outcome.failed("unagreed"), changes, AGREED_PLAN_FIELDS)

    outcome.raise_unless_written(RESOURCE, expected_version, plan_id, version_first=True, rules=refused)
    return _plan_read(outcome)


async def agree(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: PlanAgreement,
    expected_version: ExpectedVersion,
) -> PlanRead:
    """Record that the household agreed to this version (who, and when)."""
    now = utcnow()
    agreed_at = data.agreed_at or now
    future = agreed_at > now + CLOCK_SKEW
    entry = uow.log(
        principal,
        resource=RESOURCE,
        action=AccessAction.update,
        household_id=household_id,
        resource_id=plan_id,
        person_id=data.agreed_by_member_id,
    )
    changes = {
        "agreed_at": agreed_at,
        "agreed_by_member_id": data.agreed_by_member_id,
        "agreement_recorded_by": str(RecordedBy.team),
        "updated_at": now,
    }
    outcome = await _change(frozenset(changes)).run(
        uow,
        principal,
        entry,
        household_id,
        plan_id,
        expected_version,
        changes,
        valid=not future,
        params={"progress_only": False},
    )

    def refused() -> None:
        _ensure_active(outcome)
        if outcome.failed("unagreed"):
            raise Conflict("The household already agreed to this version.", rule="plan_already_agreed")
        errors = member_errors(not outcome.failed("member"), ("body", "agreed_by_member_id"))
        if future:
            errors.append(FieldError(("body", "agreed_at"), "Cannot be in the future.", "date_in_future"))
        reject(errors)

    outcome.raise_unless_written(RESOURCE, expected_version, plan_id, version_first=True, rules=refused)
    return _plan_read(outcome)


def ensure_not_agreed(plan: Plan) -> None:
    if plan.agreed_at is not None:
        raise Conflict("The household already agreed to this version.", rule="plan_already_agreed")


async def record_agreement(
    uow: UnitOfWork, plan: Plan, member_id: uuid.UUID, agreed_at: datetime, recorded_by: RecordedBy
) -> None:
    """The member agrees to this (active, not yet agreed) version themself (self-service; the team's
    record is ``agree`` above, one statement): who, when, recorded as the member's."""
    ensure_not_agreed(plan)
    plan.agreed_at = agreed_at
    plan.agreed_by_member_id = member_id
    plan.agreement_recorded_by = str(recorded_by)
    await changed(uow, plan)
