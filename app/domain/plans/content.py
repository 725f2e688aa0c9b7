"""Goals and actions of a plan version. Only the active version changes; an agreed version only
takes progress (see ``rules.py``). Every change bumps the plan's version and records a ``plan``
change for sync."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from app.domain.assessments.casefile import reject_nulls, touch
from app.domain.assessments.service import check_domains
from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.models import Household
from app.domain.households.rules import ensure_open
from app.domain.plans import repository as repo
from app.domain.plans.models import PerformerKind, Plan, PlanAction, PlanGoal
from app.domain.plans.rules import AGREED_ACTION_FIELDS, ensure_active, ensure_change_allowed
from app.domain.plans.schemas import ActionCreate, ActionRead, ActionUpdate, GoalCreate, GoalRead, GoalUpdate
from app.domain.plans.service import action_read, changed, existing_plan, goal_read
from app.domain.plans.validation import ActionLinks, check_actions
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

GOAL = "plan_goal"
Item = TypeVar("Item", PlanGoal, PlanAction)
Loader = Callable[[UnitOfWork, Plan, uuid.UUID, bool], Awaitable[Item]]
ACTION = "plan_action"


async def _plan(
    uow: UnitOfWork,
    principal: Principal,
    ids: tuple[uuid.UUID, uuid.UUID],
    resource: str,
    action: AccessAction,
    resource_id: uuid.UUID | None = None,
) -> tuple[Household, Plan]:
    """The visible household (one access-log row) and its plan version ``ids`` = (household, plan)."""
    household_id, plan_id = ids
    household = await get_visible(
        uow, principal, household_id, resource=resource, action=action, resource_id=resource_id
    )
    write = action != AccessAction.read
    return household, await existing_plan(uow, household_id, plan_id, for_update=write)


def _ensure_editable(
    household: Household, plan: Plan, changes: Iterable[str] | None, allowed: frozenset[str] = frozenset()
) -> None:
    ensure_open(household.status)
    ensure_active(plan.status)
    ensure_change_allowed(plan.agreed_at is not None, changes, allowed)


async def _goal(uow: UnitOfWork, plan: Plan, goal_id: uuid.UUID, for_update: bool = False) -> PlanGoal:
    goal = await repo.get_goal(uow.session, plan.id, goal_id, for_update=for_update)
    if goal is None:
        raise NotFound(GOAL)
    return goal


async def _action(uow: UnitOfWork, plan: Plan, action_id: uuid.UUID, for_update: bool = False) -> PlanAction:
    action = await repo.get_action(uow.session, plan.id, action_id, for_update=for_update)
    if action is None:
        raise NotFound(ACTION)
    return action


async def _check_domain(uow: UnitOfWork, domain: str | None) -> None:
    if domain is not None and (errors := await check_domains(uow, [domain], ("body",))):
        raise ValidationFailed([FieldError(("body", "domain"), e.message, e.rule) for e in errors])


# -- goals ------------------------------------------------------------------------------------


async def read_goal(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
) -> GoalRead:
    _, plan = await _plan(uow, principal, (household_id, plan_id), GOAL, AccessAction.read, goal_id)
    return goal_read(await _goal(uow, plan, goal_id))


async def add_goal(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, plan_id: uuid.UUID, data: GoalCreate
) -> GoalRead:
    new_id = uuid.uuid4()
    household, plan = await _plan(uow, principal, (household_id, plan_id), GOAL, AccessAction.create, new_id)
    _ensure_editable(household, plan, None)
    await _check_domain(uow, data.domain)
    goal = PlanGoal(
        id=new_id,
        plan_id=plan_id,
        domain_code=data.domain,
        target_score=data.target_score,
        description=data.description,
        position=await repo.next_position(uow.session, PlanGoal, plan_id),
    )
    uow.session.add(goal)
    await changed(uow, plan)
    return goal_read(goal)


async def update_goal(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    data: GoalUpdate,
    expected_version: ExpectedVersion,
) -> GoalRead:
    ids = (household_id, plan_id, goal_id)
    household, plan, goal = await _locked(
        uow, principal, ids, expected_version, GOAL, _goal, AccessAction.update
    )
    changes = data.model_dump(exclude_unset=True)
    _ensure_editable(household, plan, changes)
    reject_nulls(data, "domain", "target_score")
    await _check_domain(uow, data.domain)
    if "domain" in changes:
        changes["domain_code"] = changes.pop("domain")
    for name, value in changes.items():
        setattr(goal, name, value)
    touch(goal)
    await changed(uow, plan)
    return goal_read(goal)


# -- actions ----------------------------------------------------------------------------------


async def read_action(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    action_id: uuid.UUID,
) -> ActionRead:
    _, plan = await _plan(uow, principal, (household_id, plan_id), ACTION, AccessAction.read, action_id)
    return action_read(await _action(uow, plan, action_id))


async def _check_action(
    uow: UnitOfWork, household: Household, plan: Plan, links: ActionLinks, goal_id: uuid.UUID | None
) -> None:
    errors, _ = await check_actions(uow, household, [links])
    if goal_id is not None and await repo.get_goal(uow.session, plan.id, goal_id) is None:
        errors.append(FieldError(("body", "goal_id"), "Not a goal of this plan version.", "goal_not_in_plan"))
    if errors:
        raise ValidationFailed(errors)


async def add_action(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: ActionCreate,
) -> ActionRead:
    new_id = uuid.uuid4()
    household, plan = await _plan(
        uow, principal, (household_id, plan_id), ACTION, AccessAction.create, new_id
    )
    _ensure_editable(household, plan, None)
    links = ActionLinks(
        ("body",), data.performer_kind, network_person_id=data.network_person_id, worker_id=data.worker_id
    )
    await _check_action(uow, household, plan, links, data.goal_id)
    action = PlanAction(
        id=new_id,
        plan_id=plan_id,
        goal_id=data.goal_id,
        description=data.description,
        performer_kind=data.performer_kind,
        network_person_id=data.network_person_id,
        worker_id=data.worker_id,
        due_date=data.due_date,
        done=data.done,
        done_at=utcnow() if data.done else None,
        position=await repo.next_position(uow.session, PlanAction, plan_id),
    )
    uow.session.add(action)
    await changed(uow, plan)
    return action_read(action)


def _apply_action_changes(action: PlanAction, changes: dict[str, object]) -> None:
    """Set the fields; a new performer kind drops links the request did not restate."""
    if "performer_kind" in changes and changes["performer_kind"] != action.performer_kind:
        for link in ("network_person_id", "worker_id"):
            changes.setdefault(link, None)
        action.referral_id = None  # the referral belonged to the partner performing it
    if "done" in changes and changes["done"] != action.done:
        action.done_at = utcnow() if changes["done"] else None
    for name, value in changes.items():
        setattr(action, name, value)


async def update_action(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    action_id: uuid.UUID,
    data: ActionUpdate,
    expected_version: ExpectedVersion,
) -> ActionRead:
    ids = (household_id, plan_id, action_id)
    household, plan, action = await _locked(
        uow, principal, ids, expected_version, ACTION, _action, AccessAction.update
    )
    changes = data.model_dump(exclude_unset=True)
    _ensure_editable(household, plan, changes, AGREED_ACTION_FIELDS)
    reject_nulls(data, "description", "performer_kind", "done")
    _apply_action_changes(action, changes)
    links = ActionLinks(
        ("body",),
        PerformerKind(action.performer_kind),
        network_person_id=action.network_person_id,
        worker_id=action.worker_id,
        given=frozenset(data.model_fields_set),
    )
    await _check_action(uow, household, plan, links, data.goal_id)
    touch(action)
    await changed(uow, plan)
    return action_read(action)


# -- shared by goals and actions ----------------------------------------------------------------


async def _locked(
    uow: UnitOfWork,
    principal: Principal,
    ids: tuple[uuid.UUID, uuid.UUID, uuid.UUID],
    expected_version: ExpectedVersion,
    resource: str,
    load: Loader[Item],
    action: AccessAction,
) -> tuple[Household, Plan, Item]:
    """The goal or action to change, locked, and its plan (ids: household, plan, item); the version
    the caller edited checked after the access check."""
    household_id, plan_id, item_id = ids
    household, plan = await _plan(uow, principal, (household_id, plan_id), resource, action, item_id)
    item = await load(uow, plan, item_id, True)
    expected_version.check(item.id, item.version)
    return household, plan, item


async def delete(
    uow: UnitOfWork,
    principal: Principal,
    ids: tuple[uuid.UUID, uuid.UUID, uuid.UUID],
    expected_version: ExpectedVersion,
    resource: str,
) -> None:
    """Remove a goal or an action (``resource`` GOAL or ACTION; ``ids``: household, plan, item).

    A removed goal's actions stay in the plan, no longer tied to a goal.
    """
    household, plan = await _plan(uow, principal, ids[:2], resource, AccessAction.delete, ids[2])
    load = _goal if resource == GOAL else _action
    item = await load(uow, plan, ids[2], True)
    expected_version.check(item.id, item.version)
    _ensure_editable(household, plan, None)
    await uow.session.delete(item)
    await changed(uow, plan)
