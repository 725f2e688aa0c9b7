"""A plan version's life after it is written: the household's agreement, evaluations with the
household (per goal), and closing. Every use case goes through ``get_visible`` (one access-log row,
404 when hidden) and records a ``plan`` change (the phone reloads the version)."""

from __future__ import annotations

import uuid
from datetime import date

from app.domain.assessments.rules import is_in_future, local_today
from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, FieldError, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.models import RecordedBy
from app.domain.households.rules import ensure_open
from app.domain.plans import repository as repo
from app.domain.plans.agreement import record_agreement
from app.domain.plans.models import Plan, PlanClosingReason, PlanEvaluation, PlanGoalEvaluation, PlanStatus
from app.domain.plans.rules import (
    PlanPolicy,
    ensure_active,
    ensure_agreed,
    goal_result_problems,
    months_after,
)
from app.domain.plans.schemas import PlanAgreement, PlanClosing, PlanEvaluationCreate, PlanRead
from app.domain.plans.service import changed, existing_plan, for_change, plan_read
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

EVALUATION = "plan_evaluation"


async def agree(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: PlanAgreement,
    expected_version: ExpectedVersion,
    policy: PlanPolicy,
) -> PlanRead:
    """Record that the household agreed to this version (who, and when)."""
    household, plan = await for_change(
        uow, principal, household_id, plan_id, expected_version, person_id=data.agreed_by_member_id
    )
    if plan.agreed_at is not None:
        raise Conflict("The household already agreed to this version.", rule="plan_already_agreed")
    await record_agreement(uow, household, plan, data, policy, RecordedBy.team)
    await changed(uow, plan)
    return await plan_read(uow, plan)


async def close(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: PlanClosing,
    expected_version: ExpectedVersion,
) -> PlanRead:
    """End the active version without a successor, with a reason (its history stays readable)."""
    if data.reason is PlanClosingReason.household_closed:
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "reason"),
                    "Set by the service when the household's file closes; close the household instead.",
                    "reason_not_allowed",
                )
            ]
        )
    _, plan = await for_change(uow, principal, household_id, plan_id, expected_version)
    end(plan, data.reason, note=data.note, by=principal.worker_id)
    await changed(uow, plan)
    return await plan_read(uow, plan)


def end(
    plan: Plan, reason: PlanClosingReason, *, note: str | None = None, by: uuid.UUID | None = None
) -> None:
    plan.status = PlanStatus.closed
    plan.closed_at = utcnow()
    plan.closing_reason = str(reason)
    plan.closing_note = note
    plan.closed_by = by


async def evaluate(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: PlanEvaluationCreate,
    policy: PlanPolicy,
) -> PlanRead:
    """Record an evaluation with the household: every goal's result, the latest score of its life
    domain, who took part and the household's view; the plan's next evaluation date follows."""
    new_id = uuid.uuid4()
    household = await get_visible(
        uow, principal, household_id, resource=EVALUATION, action=AccessAction.create, resource_id=new_id
    )
    plan = await existing_plan(uow, household_id, plan_id, for_update=True)
    ensure_open(household.status)
    ensure_active(plan.status)
    ensure_agreed(plan.agreed_at is not None)
    goals, _ = await repo.contents(uow.session, [plan.id])
    domain_of = {g.id: g.domain_code for g in goals[plan.id]}
    evaluated_on = data.evaluated_on or local_today(utcnow())
    await _check_evaluation(uow, household_id, data, list(domain_of), evaluated_on)
    following = data.next_evaluation_date or months_after(evaluated_on, policy.evaluation_months)
    scores = await repo.latest_scores(uow.session, household_id, domain_of.values(), evaluated_on)
    uow.session.add(
        PlanEvaluation(
            id=new_id,
            plan_id=plan.id,
            evaluated_on=evaluated_on,
            evaluated_by=principal.worker_id,
            member_ids=list(dict.fromkeys(data.member_ids)),
            others=data.others,
            household_view=data.household_view,
        )
    )
    await uow.session.flush()
    uow.session.add_all(
        PlanGoalEvaluation(
            evaluation_id=new_id,
            goal_id=given.goal_id,
            result=str(given.result),
            note=given.note,
            score=scores.get(domain_of[given.goal_id], (None, None))[0],
            score_assessed_on=scores.get(domain_of[given.goal_id], (None, None))[1],
        )
        for given in data.goals
    )
    plan.evaluation_date = following
    await changed(uow, plan)
    return await plan_read(uow, plan)


async def _check_evaluation(
    uow: UnitOfWork,
    household_id: uuid.UUID,
    data: PlanEvaluationCreate,
    goal_ids: list[uuid.UUID],
    evaluated_on: date,
) -> None:
    errors = goal_result_problems(goal_ids, [g.goal_id for g in data.goals])
    if is_in_future(evaluated_on, utcnow()):
        errors.append(FieldError(("body", "evaluated_on"), "Cannot be in the future.", "date_in_future"))
    if data.next_evaluation_date is not None and data.next_evaluation_date <= evaluated_on:
        errors.append(
            FieldError(
                ("body", "next_evaluation_date"),
                "Must come after the evaluation.",
                "date_not_after_evaluation",
            )
        )
    members = await repo.members_of(uow.session, household_id, data.member_ids)
    errors += [
        FieldError(("body", "member_ids", i), "Not a member of this household.", "member_not_in_household")
        for i, member_id in enumerate(data.member_ids)
        if member_id not in members
    ]
    if errors:
        raise ValidationFailed(errors)
