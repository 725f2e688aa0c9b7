"""Goals and actions of a plan version. Only the active version changes; an agreed version only
takes progress (see ``rules.py``). Every change bumps the plan's version and records a ``plan``
change for sync.

Each change is one statement (``households.case_write``, the plan version as the aggregate it is part
of): the access check, the plan version locked and its rules, the goal or action, the links it names,
the plan's version, the change row and the access-log entry together. Only a changed action reads
itself first (one statement more): a new performer drops the links the request does not restate, and
what the links must be depends on that; the change then writes on the version it read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from app.domain.assessments.casefile import null_errors, reject
from app.domain.assessments.service import domain_errors
from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.directory import offers
from app.domain.directory.rules import sees_internal
from app.domain.errors import FieldError, NotFound
from app.domain.households.access import get_visible
from app.domain.households.case_outcome import Outcome
from app.domain.households.case_sql import Within
from app.domain.households.case_write import CaseInsert, CaseRead, CaseRemoval, CaseUpdate
from app.domain.plans import repository as repo
from app.domain.plans.models import PerformerKind, Plan, PlanAction, PlanGoal, PlanStatus
from app.domain.plans.rules import AGREED_ACTION_FIELDS, ensure_active, ensure_change_allowed
from app.domain.plans.schemas import ActionCreate, ActionRead, ActionUpdate, GoalCreate, GoalRead, GoalUpdate
from app.domain.plans.service import RESOURCE, action_read, existing_plan, goal_read
from app.domain.plans.sync_and_export import ENTITY
from app.domain.plans.validation import ActionLinks, link_problems, unknown_links
from app.domain.unit_of_work.access_log import AccessAction, AccessEntry
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

GOAL = "plan_goal"
ACTION = "plan_action"

PLAN_VERSION = Within(Plan, "plan_id", RESOURCE, repo.PLAN_RULES)
GOAL_COLUMNS = (
    "id",
    "plan_id",
    "domain_code",
    "target_score",
    "description",
    "version",
    "created_at",
    "updated_at",
)
ACTION_COLUMNS = (
    "id", "plan_id", "goal_id", "description", "performer_kind", "network_person_id", "worker_id",
    "service_id", "initiative_id", "due_date", "done", "done_at", "version", "created_at", "updated_at",
)  # fmt: skip
OFFER_FACTS = (*offers.SERVICE_FACTS, *offers.INITIATIVE_FACTS)
ADD_GOAL = CaseInsert(
    PlanGoal,
    GOAL_COLUMNS,
    entity=ENTITY,
    within=PLAN_VERSION,
    computed={"position": repo.next_position_sql(PlanGoal)},
    checks=repo.goal_checks(),
)
ADD_ACTION = CaseInsert(
    PlanAction,
    ACTION_COLUMNS,
    entity=ENTITY,
    within=PLAN_VERSION,
    computed={"position": repo.next_position_sql(PlanAction)},
    checks=repo.action_checks(),
)
REMOVE = {
    GOAL: CaseRemoval(PlanGoal, entity=ENTITY, within=PLAN_VERSION),
    ACTION: CaseRemoval(PlanAction, entity=ENTITY, within=PLAN_VERSION),
}
ACTION_NOW = CaseRead(PlanAction, within=PLAN_VERSION)


@lru_cache(maxsize=64)
def _goal_change(columns: frozenset[str]) -> CaseUpdate:
    return CaseUpdate(
        PlanGoal, sorted(columns), entity=ENTITY, within=PLAN_VERSION, checks=repo.goal_checks()
    )


@lru_cache(maxsize=128)
def _action_change(columns: frozenset[str]) -> CaseUpdate:
    return CaseUpdate(
        PlanAction, sorted(columns), entity=ENTITY, within=PLAN_VERSION, checks=repo.action_checks()
    )


def plan_rules(
    outcome: Outcome, changes: Iterable[str] | None, allowed: frozenset[str] = frozenset()
) -> None:
    """The plan version's own rules, as the statement found it (locked): only the active version
    changes; an agreed one takes progress only (``changes``: the fields changed, None for a goal or
    action added or removed)."""
    ensure_active(PlanStatus.superseded if outcome.failed("active") else PlanStatus.active)
    ensure_change_allowed(outcome.failed("unagreed"), changes, allowed)


def _progress_only(changes: Iterable[str] | None, allowed: frozenset[str] = frozenset()) -> bool:
    return changes is not None and set(changes) <= allowed


def _entry(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    resource: str,
    action: AccessAction,
    item_id: uuid.UUID,
) -> AccessEntry:
    return uow.log(
        principal, resource=resource, action=action, household_id=household_id, resource_id=item_id
    )


def _domain_errors(outcome: Outcome) -> list[FieldError]:
    found = domain_errors([not outcome.failed("domain")], ("body",))
    return [FieldError(("body", "domain"), e.message, e.rule) for e in found]


# -- goals ------------------------------------------------------------------------------------


async def read_goal(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
) -> GoalRead:
    await get_visible(
        uow, principal, household_id, resource=GOAL, action=AccessAction.read, resource_id=goal_id
    )
    plan = await existing_plan(uow, household_id, plan_id)
    goal = await repo.get_goal(uow.session, plan.id, goal_id)
    if goal is None:
        raise NotFound(GOAL)
    return goal_read(goal)


async def add_goal(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, plan_id: uuid.UUID, data: GoalCreate
) -> GoalRead:
    now, goal_id = utcnow(), uuid.uuid4()
    row: dict[str, Any] = {
        "id": goal_id,
        "plan_id": plan_id,
        "domain_code": data.domain,
        "target_score": data.target_score,
        "description": data.description,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    entry = _entry(uow, principal, household_id, GOAL, AccessAction.create, goal_id)
    params = {"progress_only": False, "goal_domain": data.domain}
    outcome = await ADD_GOAL.run(
        uow, principal, entry, row, household_id=household_id, parent_id=plan_id, params=params
    )

    def refused() -> None:
        plan_rules(outcome, None)
        reject(_domain_errors(outcome))

    outcome.raise_unless_written(rules=refused)
    return goal_read(PlanGoal.model_validate(row))


async def update_goal(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    data: GoalUpdate,
    expected_version: ExpectedVersion,
) -> GoalRead:
    sent = data.model_dump(exclude_unset=True)
    changes = {("domain_code" if name == "domain" else name): value for name, value in sent.items()}
    nulls = null_errors(data, "domain", "target_score")
    entry = _entry(uow, principal, household_id, GOAL, AccessAction.update, goal_id)
    params = {"progress_only": _progress_only(sent), "goal_domain": data.domain}
    outcome = await _goal_change(frozenset(changes) | {"updated_at"}).run(
        uow,
        principal,
        entry,
        household_id,
        goal_id,
        expected_version,
        changes | {"updated_at": utcnow()},
        valid=not nulls,
        parent_id=plan_id,
        params=params,
    )

    def refused() -> None:
        plan_rules(outcome, sent)
        reject(nulls or _domain_errors(outcome))

    outcome.raise_unless_written(GOAL, expected_version, goal_id, version_first=True, rules=refused)
    assert outcome.row is not None
    return GoalRead.model_validate({**outcome.row, "domain": outcome.row["domain_code"]})


# -- actions ----------------------------------------------------------------------------------


async def read_action(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    action_id: uuid.UUID,
) -> ActionRead:
    await get_visible(
        uow, principal, household_id, resource=ACTION, action=AccessAction.read, resource_id=action_id
    )
    plan = await existing_plan(uow, household_id, plan_id)
    action = await repo.get_action(uow.session, plan.id, action_id)
    if action is None:
        raise NotFound(ACTION)
    return action_read(action)


def _link_params(
    links: ActionLinks | None, goal_id: uuid.UUID | None, principal: Principal
) -> dict[str, Any]:
    """What the statement checks of the links: those the request supplies."""
    supplied = (lambda field: links.supplied(field)) if links else (lambda field: None)
    return {
        "linked_person": supplied("network_person_id"),
        "linked_worker": supplied("worker_id"),
        "linked_goal": goal_id,
        "linked_service": supplied("service_id"),
        "linked_initiative": supplied("initiative_id"),
        "service_internal": sees_internal(principal),
    }


def _link_errors(outcome: Outcome, links: ActionLinks | None, problems: list[FieldError]) -> list[FieldError]:
    """The action's link problems, in the order always answered: links that do not fit the performer,
    links the database does not know, a goal of another plan version."""
    errors = list(problems)
    if links is not None:
        known = {check: not outcome.failed(check) for check in ("person", "worker")}
        failures = frozenset(fact for fact in OFFER_FACTS if outcome.failed(fact))
        errors += unknown_links(links, **known, offer_failures=failures)
    if outcome.failed("goal"):
        errors.append(FieldError(("body", "goal_id"), "Not a goal of this plan version.", "goal_not_in_plan"))
    return errors


async def add_action(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: ActionCreate,
) -> ActionRead:
    now, action_id = utcnow(), uuid.uuid4()
    row: dict[str, Any] = {
        "id": action_id,
        "plan_id": plan_id,
        "goal_id": data.goal_id,
        "description": data.description,
        "performer_kind": str(data.performer_kind),
        "network_person_id": data.network_person_id,
        "worker_id": data.worker_id,
        "service_id": data.service_id,
        "initiative_id": data.initiative_id,
        "due_date": data.due_date,
        "done": data.done,
        "done_at": now if data.done else None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    links = ActionLinks(
        ("body",),
        data.performer_kind,
        network_person_id=data.network_person_id,
        worker_id=data.worker_id,
        service_id=data.service_id,
        initiative_id=data.initiative_id,
    )
    problems = link_problems([links])
    entry = _entry(uow, principal, household_id, ACTION, AccessAction.create, action_id)
    params = {"progress_only": False, **_link_params(links, data.goal_id, principal)}
    outcome = await ADD_ACTION.run(
        uow,
        principal,
        entry,
        row,
        household_id=household_id,
        valid=not problems,
        parent_id=plan_id,
        params=params,
    )

    def refused() -> None:
        plan_rules(outcome, None)
        reject(_link_errors(outcome, links, problems))

    outcome.raise_unless_written(rules=refused)
    return ActionRead.model_validate({**row, "referral_id": None})


def _action_columns(current: ActionRead, changes: dict[str, Any]) -> dict[str, Any]:
    """The columns a PATCH of an action sets: what it sends; a new performer kind drops the links the
    request does not restate (and the referral, which belonged to the partner performing it); done
    sets or clears done_at."""
    columns = dict(changes)
    if "performer_kind" in changes and changes["performer_kind"] != current.performer_kind:
        for link in ("network_person_id", "worker_id"):
            columns.setdefault(link, None)
        columns["referral_id"] = None
    if "done" in changes and changes["done"] != current.done:
        columns["done_at"] = utcnow() if changes["done"] else None
    return columns


async def update_action(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    action_id: uuid.UUID,
    data: ActionUpdate,
    expected_version: ExpectedVersion,
) -> ActionRead:
    sent = data.model_dump(exclude_unset=True)
    nulls = null_errors(data, "description", "performer_kind", "done")
    row = await ACTION_NOW.run(uow, principal, household_id, action_id, parent_id=plan_id)
    columns, links, problems = dict(sent), None, []
    if row is not None and not nulls:  # what the action will be, to check its links
        current = ActionRead.model_validate(row)
        columns = _action_columns(current, sent)
        links = ActionLinks(
            ("body",),
            PerformerKind(columns.get("performer_kind", current.performer_kind)),
            network_person_id=columns.get("network_person_id", current.network_person_id),
            worker_id=columns.get("worker_id", current.worker_id),
            service_id=columns.get("service_id", current.service_id),
            initiative_id=columns.get("initiative_id", current.initiative_id),
            given=frozenset(data.model_fields_set),
        )
        problems = link_problems([links])
    columns = {name: str(v) if isinstance(v, PerformerKind) else v for name, v in columns.items()}
    entry = _entry(uow, principal, household_id, ACTION, AccessAction.update, action_id)
    params = {
        "progress_only": _progress_only(sent, AGREED_ACTION_FIELDS),
        **_link_params(links, data.goal_id, principal),
    }
    # Written only on the version read (the row the links were worked out from) and the one edited.
    outcome = await _action_change(frozenset(columns) | {"updated_at"}).run(
        uow,
        principal,
        entry,
        household_id,
        action_id,
        expected_version,
        columns | {"updated_at": utcnow()},
        valid=row is not None and not (nulls or problems),
        parent_id=plan_id,
        params=params,
    )

    def refused() -> None:
        plan_rules(outcome, sent, AGREED_ACTION_FIELDS)
        reject(nulls or _link_errors(outcome, links, problems))

    outcome.raise_unless_written(ACTION, expected_version, action_id, version_first=True, rules=refused)
    assert outcome.row is not None
    return ActionRead.model_validate(outcome.row)


# -- shared by goals and actions ----------------------------------------------------------------


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
    household_id, plan_id, item_id = ids
    entry = _entry(uow, principal, household_id, resource, AccessAction.delete, item_id)
    outcome = await REMOVE[resource].run(
        uow, principal, entry, household_id, item_id, expected_version, parent_id=plan_id,
        params={"progress_only": False},
    )  # fmt: skip
    outcome.raise_unless_written(
        resource, expected_version, item_id, version_first=True, rules=lambda: plan_rules(outcome, None)
    )
