"""Plan use cases: versions, reads and plan fields. Goals and actions are in ``content.py``; the
agreement, evaluations and closing in ``lifecycle.py``.

The plan is one aggregate for mobile sync: any change to it, its goals, its actions or its
evaluations records a change of entity ``plan`` (the phone reloads the version as a whole). Every use
case goes through ``get_visible`` (one access-log row, 404 when hidden).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlmodel import col

from app.domain.assessments.casefile import touch
from app.domain.assessments.service import check_domains
from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.directory.rules import sees_internal
from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.case_outcome import Outcome
from app.domain.households.case_sql import OBJECT
from app.domain.households.case_write import CaseUpdate
from app.domain.households.models import Household, RecordedBy
from app.domain.households.rules import ensure_open
from app.domain.plans import repository as repo
from app.domain.plans.agreement import record_agreement
from app.domain.plans.models import Plan, PlanAction, PlanGoal, PlanStatus
from app.domain.plans.rules import (
    AGREED_PLAN_FIELDS,
    PlanPolicy,
    ensure_active,
    ensure_change_allowed,
    ensure_supersedes_active,
)
from app.domain.plans.schemas import (
    ActionRead,
    GoalRead,
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
    """The whole version as it stands in this work (one statement: goals, actions, evaluations)."""
    await uow.session.flush()
    rows = await repo.read_rows(uow.session, col(Plan.id) == plan.id)
    return PlanRead.model_validate(dict(rows[0]))


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
        service_id=action.service_id,
        initiative_id=action.initiative_id,
    )


async def _validate_version(
    uow: UnitOfWork, household: Household, data: PlanVersionCreate, current: Plan | None, *, internal: bool
) -> dict[uuid.UUID, uuid.UUID | None]:
    errors = await check_domains(uow, [g.domain for g in data.goals], ("body", "goals"))
    links = [
        _links(("body", "goals", gi, "actions", ai), action)
        for gi, goal in enumerate(data.goals)
        for ai, action in enumerate(goal.actions)
    ] + [_links(("body", "actions", ai), action) for ai, action in enumerate(data.actions)]
    action_errors, continued = await check_actions(
        uow, household, links, superseded_plan_id=current.id if current else None, internal=internal
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
        "service_id": action.service_id,
        "initiative_id": action.initiative_id,
        "referral_id": referral if action.performer_kind == "partner" else None,
        "due_date": action.due_date,
        "done": action.done,
        "done_at": now if action.done else None,
        "position": position,
    }


def _carried_rows(
    plan_id: uuid.UUID, carried: list[tuple[PlanGoal, list[PlanAction]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The open goals of the superseded version with their open actions, copied into ``plan_id``
    (referral links kept: the referral still carries the action out)."""
    goals: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for goal, open_actions in carried:
        goal_id = uuid.uuid4()
        goals.append(
            {
                "id": goal_id,
                "plan_id": plan_id,
                "domain_code": goal.domain_code,
                "target_score": goal.target_score,
                "description": goal.description,
                "position": len(goals),
            }
        )
        for action in open_actions:
            actions.append(
                {
                    "id": uuid.uuid4(),
                    "plan_id": plan_id,
                    "goal_id": goal_id,
                    "description": action.description,
                    "performer_kind": action.performer_kind,
                    "network_person_id": action.network_person_id,
                    "worker_id": action.worker_id,
                    "service_id": action.service_id,
                    "initiative_id": action.initiative_id,
                    "referral_id": action.referral_id,
                    "due_date": action.due_date,
                    "done": False,
                    "done_at": None,
                    "position": len(actions),
                }
            )
    return goals, actions


def _content_rows(
    plan_id: uuid.UUID,
    data: PlanVersionCreate,
    continued: dict[uuid.UUID, uuid.UUID | None],
    now: datetime,
    carried: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], []),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    goals: list[dict[str, Any]] = list(carried[0])
    actions: list[dict[str, Any]] = list(carried[1])
    for goal in data.goals:
        position = len(goals)
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
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    data: PlanVersionCreate,
    policy: PlanPolicy | None = None,
) -> PlanRead:
    """Make a new version and supersede the active one, in this one transaction (with the open goals
    of the superseded version carried forward, and the household's agreement, when asked).

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
    continued = await _validate_version(uow, household, data, current, internal=sees_internal(principal))
    carried = await _carried(uow, data, current)
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
    goal_rows, action_rows = _content_rows(new_id, data, continued, now, _carried_rows(new_id, carried))
    await repo.insert_many(uow.session, PlanGoal, goal_rows)
    await repo.insert_many(uow.session, PlanAction, action_rows)
    uow.record_change(ChangeRecord(household_id, ENTITY, new_id))
    if data.agreement is not None:
        await record_agreement(
            uow,
            household,
            plan,
            data.agreement,
            policy or PlanPolicy(),
            RecordedBy.team,
            ("body", "agreement"),
        )
    return await plan_read(uow, plan)


async def _carried(
    uow: UnitOfWork, data: PlanVersionCreate, current: Plan | None
) -> list[tuple[PlanGoal, list[PlanAction]]]:
    if not data.carry_forward_open_goals:
        return []
    if current is None:
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "carry_forward_open_goals"),
                    "There is no active version to carry goals forward from.",
                    "nothing_to_carry_forward",
                )
            ]
        )
    return await repo.open_goals(uow.session, current.id)


# -- plan fields and agreement ----------------------------------------------------------------


@lru_cache(maxsize=16)
def _change(columns: frozenset[str]) -> CaseUpdate:
    """The change of these plan fields in one statement (``households.case_write``): the access
    check, the version, the plan's rules on its row, the change row and the entry; the answer carries
    the goals and actions too."""
    return CaseUpdate(
        Plan,
        sorted(columns),
        entity=ENTITY,
        conditions=repo.PLAN_RULES,
        reads={
            "goals": repo.goals_json(OBJECT),
            "actions": repo.actions_json(OBJECT),
            "evaluations": repo.evaluations_json(OBJECT),
        },
    )


def _plan_read(outcome: Outcome) -> PlanRead:
    assert outcome.row is not None
    return PlanRead.model_validate({**outcome.row, **outcome.reads})


def _ensure_active(outcome: Outcome) -> None:
    ensure_active(PlanStatus.superseded if outcome.failed("active") else PlanStatus.active)


async def for_change(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    expected_version: ExpectedVersion,
    person_id: uuid.UUID | None = None,
) -> tuple[Household, Plan]:
    """The household (visible: one access-log row) and its active version ``plan_id``, locked, once
    the caller named the version they changed; the file must be open."""
    household = await get_visible(
        uow,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.update,
        resource_id=plan_id,
        person_id=person_id,
    )
    plan = await existing_plan(uow, household_id, plan_id, for_update=True)
    expected_version.check(plan.id, plan.version)
    ensure_open(household.status)
    ensure_active(plan.status)
    return household, plan


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
