"""The household plan: ``/api/v1/households/{household_id}/plan`` (the active version) and
``.../plans`` (versions, goals, actions, the household's agreement).

ETags: every plan, goal and action carries its own (``"<id>.<version>"``, also derivable from the
``id`` and ``version`` in a plan read). A change to a goal or action bumps the plan's version too.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.auth import CaseReader, CaseWriter
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES
from app.api.v1.assessments import CONDITIONAL, CONFLICT
from app.domain.plans import content, lifecycle, service
from app.domain.plans.rules import PlanPolicy
from app.domain.plans.schemas import (
    ActionCreate,
    ActionRead,
    ActionUpdate,
    GoalCreate,
    GoalRead,
    GoalUpdate,
    PlanAgreement,
    PlanClosing,
    PlanEvaluationCreate,
    PlanHeader,
    PlanRead,
    PlanUpdate,
    PlanVersionCreate,
)
from app.web.cursors import PageRequest

router = APIRouter(tags=["plans"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

HOUSEHOLD = "/households/{household_id:uuid}"
PLAN = HOUSEHOLD + "/plans/{plan_id:uuid}"
NO_CONTENT = status.HTTP_204_NO_CONTENT

# Newest version first: by revision, which is unique per household.
VersionPage = Annotated[PageRequest[tuple[int]], keyset("plan_versions", int)]


def plan_policy(request: Request) -> PlanPolicy:
    """The evaluation cycle of the settings (``plan_evaluation_months``)."""
    return PlanPolicy(evaluation_months=request.app.state.settings.plan_evaluation_months)


Policy = Annotated[PlanPolicy, Depends(plan_policy)]


def _etag(response: Response, item: PlanRead | GoalRead | ActionRead) -> None:
    set_etag(response, item.id, item.version)


# -- versions ---------------------------------------------------------------------------------


@router.get(
    HOUSEHOLD + "/plan", response_model=PlanRead, summary="The active plan with its goals and actions"
)
async def active_plan(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    response: Response,
) -> PlanRead:
    plan = await service.read_active(uow, principal, household_id)
    _etag(response, plan)
    return plan


@router.get(HOUSEHOLD + "/plans", response_model=Page[PlanHeader], summary="Every plan version, newest first")
async def plan_history(
    uow: UoW, principal: CaseReader, household_id: uuid.UUID, page: VersionPage
) -> Page[PlanHeader]:
    versions = await service.list_versions(uow, principal, household_id, limit=page.fetch, after=page.after)
    return Page.cut(page, versions, lambda p: (p.revision,))


@router.post(
    HOUSEHOLD + "/plans",
    response_model=PlanRead,
    status_code=status.HTTP_201_CREATED,
    summary="Make a new plan version (it supersedes the active one)",
    description="The whole version in one request: goals with their actions, optionally the open goals "
    "of the version it supersedes (`carry_forward_open_goals`) and the household's agreement to it "
    "(`agreement`; the household then becomes active and the evaluation date defaults to the configured "
    "months after the agreement). The answer carries the version's `ETag` and `version`.",
    responses=CONFLICT,
)
async def new_plan_version(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    body: PlanVersionCreate,
    response: Response,
    policy: Policy,
    _: Idempotent,
) -> PlanRead:
    plan = await service.new_version(uow, principal, household_id, body, policy)
    _etag(response, plan)
    return plan


@router.get(PLAN, response_model=PlanRead, summary="One plan version with its goals and actions")
async def read_plan(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    response: Response,
) -> PlanRead:
    plan = await service.read(uow, principal, household_id, plan_id)
    _etag(response, plan)
    return plan


@router.patch(
    PLAN, response_model=PlanRead, summary="Change the summary or evaluation date", responses=CONDITIONAL
)
async def update_plan(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: PlanUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> PlanRead:
    plan = await service.update(uow, principal, household_id, plan_id, body, expected_version(if_match))
    _etag(response, plan)
    return plan


@router.post(
    PLAN + "/agreement",
    response_model=PlanRead,
    summary="Record the household's agreement to this version (If-Match or expected_version: the "
    "version agreed to)",
    description="A household at registration or intake becomes active; without an evaluation date the "
    "version gets one, the configured months after the agreement.",
    responses=CONDITIONAL,
)
async def agree_plan(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: PlanAgreement,
    response: Response,
    policy: Policy,
    _: Idempotent,
    if_match: IfMatch = None,
) -> PlanRead:
    version = expected_version(if_match, body.expected_version)
    plan = await lifecycle.agree(uow, principal, household_id, plan_id, body, version, policy)
    _etag(response, plan)
    return plan


@router.post(
    PLAN + "/evaluations",
    response_model=PlanRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record an evaluation with the household, per goal",
    description="Every goal of the (agreed, active) version once: reached, partly, not_reached or "
    "dropped, with a short note; the latest self-sufficiency score of each goal's life domain is "
    "added by the service. The version's next evaluation date follows (given, or the configured "
    "months later).",
    responses=CONFLICT,
)
async def evaluate_plan(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: PlanEvaluationCreate,
    response: Response,
    policy: Policy,
    _: Idempotent,
) -> PlanRead:
    plan = await lifecycle.evaluate(uow, principal, household_id, plan_id, body, policy)
    _etag(response, plan)
    return plan


@router.post(
    PLAN + "/closing",
    response_model=PlanRead,
    summary="Close the active version with a reason (If-Match or expected_version)",
    description="Ends the plan without a successor; it stays readable as history. Closing the household "
    "closes its plan by itself (reason household_closed).",
    responses=CONDITIONAL,
)
async def close_plan(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: PlanClosing,
    response: Response,
    _: Idempotent,
    if_match: IfMatch = None,
) -> PlanRead:
    version = expected_version(if_match, body.expected_version)
    plan = await lifecycle.close(uow, principal, household_id, plan_id, body, version)
    _etag(response, plan)
    return plan


# -- goals ------------------------------------------------------------------------------------


@router.post(
    PLAN + "/goals",
    response_model=GoalRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a goal",
    responses=CONFLICT,
)
async def add_goal(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: GoalCreate,
    response: Response,
    _: Idempotent,
) -> GoalRead:
    goal = await content.add_goal(uow, principal, household_id, plan_id, body)
    _etag(response, goal)
    return goal


@router.get(PLAN + "/goals/{goal_id:uuid}", response_model=GoalRead, summary="Read a goal")
async def read_goal(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    response: Response,
) -> GoalRead:
    goal = await content.read_goal(uow, principal, household_id, plan_id, goal_id)
    _etag(response, goal)
    return goal


@router.patch(
    PLAN + "/goals/{goal_id:uuid}", response_model=GoalRead, summary="Change a goal", responses=CONDITIONAL
)
async def update_goal(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    body: GoalUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> GoalRead:
    goal = await content.update_goal(
        uow, principal, household_id, plan_id, goal_id, body, expected_version(if_match)
    )
    _etag(response, goal)
    return goal


@router.delete(
    PLAN + "/goals/{goal_id:uuid}", status_code=NO_CONTENT, summary="Remove a goal", responses=CONDITIONAL
)
async def delete_goal(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    ids = (household_id, plan_id, goal_id)
    await content.delete(uow, principal, ids, expected_version(if_match), content.GOAL)
    return Response(status_code=NO_CONTENT)


# -- actions ----------------------------------------------------------------------------------


@router.post(
    PLAN + "/actions",
    response_model=ActionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add an action",
    responses=CONFLICT,
)
async def add_action(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: ActionCreate,
    response: Response,
    _: Idempotent,
) -> ActionRead:
    action = await content.add_action(uow, principal, household_id, plan_id, body)
    _etag(response, action)
    return action


@router.get(PLAN + "/actions/{action_id:uuid}", response_model=ActionRead, summary="Read an action")
async def read_action(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    action_id: uuid.UUID,
    response: Response,
) -> ActionRead:
    action = await content.read_action(uow, principal, household_id, plan_id, action_id)
    _etag(response, action)
    return action


@router.patch(
    PLAN + "/actions/{action_id:uuid}",
    response_model=ActionRead,
    summary="Change an action or mark it done",
    responses=CONDITIONAL,
)
async def update_action(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    action_id: uuid.UUID,
    body: ActionUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ActionRead:
    action = await content.update_action(
        uow, principal, household_id, plan_id, action_id, body, expected_version(if_match)
    )
    _etag(response, action)
    return action


@router.delete(
    PLAN + "/actions/{action_id:uuid}",
    status_code=NO_CONTENT,
    summary="Remove an action",
    responses=CONDITIONAL,
)
async def delete_action(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    plan_id: uuid.UUID,
    action_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    ids = (household_id, plan_id, action_id)
    await content.delete(uow, principal, ids, expected_version(if_match), content.ACTION)
    return Response(status_code=NO_CONTENT)
