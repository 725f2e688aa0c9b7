"""Every query of the plans context."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db import RawStatement
from app.domain.assessments.models import Assessment, AssessmentScore
from app.domain.assessments.repository import active_domain
from app.domain.directory import offers
from app.domain.documents import json_list, json_object
from app.domain.households.case_sql import HOUSEHOLD, PARENT
from app.domain.households.models import Household, Member
from app.domain.organisation.models import WorkerTeam
from app.domain.plans.models import (
    Plan,
    PlanAction,
    PlanEvaluation,
    PlanEvaluationView,
    PlanGoal,
    PlanGoalEvaluation,
    PlanStatus,
)
from app.domain.plans.rules import is_open
from app.domain.plans.schemas import (
    ActionRead,
    GoalEvaluationRead,
    GoalRead,
    MemberViewRead,
    PlanEvaluationRead,
)
from app.domain.support_network.models import NetworkPerson


async def active(session: AsyncSession, household_id: uuid.UUID, *, for_update: bool = False) -> Plan | None:
    query = select(Plan).where(Plan.household_id == household_id, Plan.status == PlanStatus.active)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get(
    session: AsyncSession, household_id: uuid.UUID, plan_id: uuid.UUID, *, for_update: bool = False
) -> Plan | None:
    query = select(Plan).where(Plan.id == plan_id, Plan.household_id == household_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def next_revision(session: AsyncSession, household_id: uuid.UUID) -> int:
    current = await session.scalar(
        select(sa.func.max(Plan.revision)).where(Plan.household_id == household_id)
    )
    return int(current or 0) + 1


async def page(
    session: AsyncSession, household_id: uuid.UUID, *, before_revision: int | None, limit: int
) -> list[Plan]:
    """Newest version first."""
    query = select(Plan).where(Plan.household_id == household_id)
    if before_revision is not None:
        query = query.where(col(Plan.revision) < before_revision)
    query = query.order_by(col(Plan.revision).desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def contents(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[PlanGoal]], dict[uuid.UUID, list[PlanAction]]]:
    """Goals and actions of these plans: two queries, whatever the numbers."""
    goals: dict[uuid.UUID, list[PlanGoal]] = {i: [] for i in plan_ids}
    actions: dict[uuid.UUID, list[PlanAction]] = {i: [] for i in plan_ids}
    if plan_ids:
        for goal in await session.scalars(
            select(PlanGoal)
            .where(col(PlanGoal.plan_id).in_(plan_ids))
            .order_by(col(PlanGoal.position), col(PlanGoal.created_at), col(PlanGoal.id))
        ):
            goals[goal.plan_id].append(goal)
        for action in await session.scalars(
            select(PlanAction)
            .where(col(PlanAction.plan_id).in_(plan_ids))
            .order_by(col(PlanAction.position), col(PlanAction.created_at), col(PlanAction.id))
        ):
            actions[action.plan_id].append(action)
    return goals, actions


async def get_goal(
    session: AsyncSession, plan_id: uuid.UUID, goal_id: uuid.UUID, *, for_update: bool = False
) -> PlanGoal | None:
    query = select(PlanGoal).where(PlanGoal.id == goal_id, PlanGoal.plan_id == plan_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_action(
    session: AsyncSession, plan_id: uuid.UUID, action_id: uuid.UUID, *, for_update: bool = False
) -> PlanAction | None:
    query = select(PlanAction).where(PlanAction.id == action_id, PlanAction.plan_id == plan_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def insert_many(
    session: AsyncSession, model: type[PlanGoal] | type[PlanAction], rows: list[dict[str, Any]]
) -> None:
    if rows:
        await session.execute(sa.insert(model), rows)


async def network_people_of(
    session: AsyncSession, household_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    wanted = set(ids)
    if not wanted:
        return set()
    found = await session.scalars(
        select(NetworkPerson.id).where(
            NetworkPerson.household_id == household_id, col(NetworkPerson.id).in_(wanted)
        )
    )
    return set(found)


async def plans_linking(session: AsyncSession, person_id: uuid.UUID) -> tuple[list[uuid.UUID], bool]:
    """Plan versions with an action performed by this network person, and whether one is an OPEN
    action of the ACTIVE version (one query)."""
    rows = await session.execute(
        select(
            PlanAction.plan_id,
            sa.func.bool_or(sa.and_(col(Plan.status) == PlanStatus.active, col(PlanAction.done).is_(False))),
        )
        .join(Plan, col(Plan.id) == PlanAction.plan_id)
        .where(PlanAction.network_person_id == person_id)
        .group_by(col(PlanAction.plan_id))
    )
    pairs = list(rows.all())
    return [plan_id for plan_id, _ in pairs], any(open_ for _, open_ in pairs)


async def workers_of_team(
    session: AsyncSession, team_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    wanted = set(ids)
    if not wanted:
        return set()
    found = await session.scalars(
        select(WorkerTeam.worker_id).where(
            WorkerTeam.team_id == team_id, col(WorkerTeam.worker_id).in_(wanted)
        )
    )
    return set(found)


async def referral_links(
    session: AsyncSession, plan_id: uuid.UUID, action_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID | None]:
    """Actions of one plan version (by id) and the referral each is linked to."""
    wanted = set(action_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(PlanAction.id, PlanAction.referral_id).where(
            PlanAction.plan_id == plan_id, col(PlanAction.id).in_(wanted)
        )
    )
    return {action_id: referral_id for action_id, referral_id in rows}


def _columns(model: Any, names: Iterable[str], rename: dict[str, str] | None = None) -> dict[str, Any]:
    rename = rename or {}
    return {rename.get(name, name): col(getattr(model, name)) for name in names}


GOAL_FIELDS = (
    "id",
    "plan_id",
    "domain_code",
    "target_score",
    "description",
    "version",
    "created_at",
    "updated_at",
)
ACTION_FIELDS = (
    "id", "plan_id", "goal_id", "description", "performer_kind", "network_person_id", "worker_id",
    "referral_id", "service_id", "initiative_id", "due_date", "done", "done_at", "version", "created_at",
    "updated_at",
)  # fmt: skip
PLAN_FIELDS = (
    "id", "household_id", "revision", "status", "supersedes_id", "summary", "evaluation_date",
    "agreed_at", "agreed_by_member_id", "agreement_recorded_by", "created_by", "superseded_at", "closed_at",
    "closing_reason", "closing_note", "closed_by", "version", "created_at", "updated_at",
)  # fmt: skip
EVALUATION_FIELDS = (
    "id", "plan_id", "evaluated_on", "evaluated_by", "member_ids", "others", "household_view", "created_at",
)  # fmt: skip
GOAL_EVALUATION_FIELDS = ("goal_id", "result", "note", "score", "score_assessed_on")
MEMBER_VIEW_FIELDS = ("member_id", "view", "created_at")


def evaluations_json(plan_id: Any = col(Plan.id)) -> Any:
    """The evaluations of the plan version ``plan_id`` (as ``goals_json``), newest first, each with its
    goals' results in the goals' order."""
    goals = (
        sa.select(
            json_list(
                json_object(GoalEvaluationRead, _columns(PlanGoalEvaluation, GOAL_EVALUATION_FIELDS)),
                col(PlanGoal.position),
                col(PlanGoal.id),
            )
        )
        .select_from(PlanGoalEvaluation)
        .join(PlanGoal, col(PlanGoal.id) == col(PlanGoalEvaluation.goal_id))
        .where(col(PlanGoalEvaluation.evaluation_id) == col(PlanEvaluation.id))
        .scalar_subquery()
    )
    member_views = (
        sa.select(
            json_list(
                json_object(MemberViewRead, _columns(PlanEvaluationView, MEMBER_VIEW_FIELDS)),
                col(PlanEvaluationView.created_at),
                col(PlanEvaluationView.id),
            )
        )
        .where(col(PlanEvaluationView.evaluation_id) == col(PlanEvaluation.id))
        .scalar_subquery()
    )
    evaluation = json_object(
        PlanEvaluationRead,
        {**_columns(PlanEvaluation, EVALUATION_FIELDS), "member_views": member_views, "goals": goals},
    )
    newest = (col(PlanEvaluation.evaluated_on).desc(), col(PlanEvaluation.created_at).desc())
    return (
        sa.select(json_list(evaluation, *newest, col(PlanEvaluation.id)))
        .where(col(PlanEvaluation.plan_id) == plan_id)
        .scalar_subquery()
    )


def goals_json(plan_id: Any = col(Plan.id)) -> Any:
    """The goals of the plan version ``plan_id`` (by default the ``plans`` row the query is over; a
    parameter in a case write's answer) as ``GoalRead`` documents in their order, a JSON array."""
    fields = _columns(PlanGoal, GOAL_FIELDS, {"domain_code": "domain"})
    return (
        sa.select(
            json_list(
                json_object(GoalRead, fields),
                col(PlanGoal.position),
                col(PlanGoal.created_at),
                col(PlanGoal.id),
            )
        )
        .where(col(PlanGoal.plan_id) == plan_id)
        .scalar_subquery()
    )


def actions_json(plan_id: Any = col(Plan.id)) -> Any:
    """The actions of the plan version ``plan_id`` (as ``goals_json``) as ``ActionRead`` documents."""
    return (
        sa.select(
            json_list(
                json_object(ActionRead, _columns(PlanAction, ACTION_FIELDS)),
                col(PlanAction.position),
                col(PlanAction.created_at),
                col(PlanAction.id),
            )
        )
        .where(col(PlanAction.plan_id) == plan_id)
        .scalar_subquery()
    )


def plan_fields() -> dict[str, Any]:
    """Every ``PlanRead`` field as a column or a JSON array of ``plans``."""
    return _columns(Plan, PLAN_FIELDS) | {
        "goals": goals_json(),
        "actions": actions_json(),
        "evaluations": evaluations_json(),
    }


async def read_rows(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[sa.RowMapping]:
    """Whole plan versions (PlanRead fields, goals and actions nested) in ONE statement."""
    query = sa.select(*(value.label(name) for name, value in plan_fields().items())).where(where)
    return list((await session.execute(query)).mappings().all())


# -- facts of the case-write statements (households.case_write), as SQL over their parameters ------

# The change touches only what an agreed version still takes (``rules.AGREED_*_FIELDS``).
PROGRESS_ONLY = sa.bindparam("progress_only", type_=sa.Boolean)
# What a plan version must be to change (itself, or its goals and actions): the active version
# (``rules.ensure_active``), not agreed unless the change is progress (``rules.ensure_change_allowed``).
PLAN_RULES = {
    "active": col(Plan.status) == sa.literal_column(f"'{PlanStatus.active}'"),
    "unagreed": sa.or_(col(Plan.agreed_at).is_(None), PROGRESS_ONLY),
}
# The links a goal or an action names, bound when the request names them (None: nothing to check).
GOAL_DOMAIN = sa.bindparam("goal_domain", type_=sa.String)
LINKED_PERSON = sa.bindparam("linked_person", type_=sa.Uuid)
LINKED_WORKER = sa.bindparam("linked_worker", type_=sa.Uuid)
LINKED_GOAL = sa.bindparam("linked_goal", type_=sa.Uuid)
LINKED_SERVICE = sa.bindparam("linked_service", type_=sa.Uuid)
LINKED_INITIATIVE = sa.bindparam("linked_initiative", type_=sa.Uuid)
# The caller may name a non-public service (``directory.rules.sees_internal``).
SERVICE_INTERNAL = sa.bindparam("service_internal", type_=sa.Boolean)


def next_position_sql(model: type[PlanGoal] | type[PlanAction]) -> Any:
    """The position after the last goal (or action) of the statement's plan version (``parent_id``)."""
    last = sa.select(sa.func.max(col(model.position))).where(col(model.plan_id) == PARENT)
    return sa.func.coalesce(last.scalar_subquery(), sa.literal_column("-1")) + sa.literal_column("1")


def goal_checks() -> dict[str, Any]:
    return {"domain": sa.or_(GOAL_DOMAIN.is_(None), active_domain(GOAL_DOMAIN))}


def action_checks() -> dict[str, Any]:
    """The links an action names: a person of this household's network map (``network_people_of``),
    a worker of its team (``workers_of_team``), a goal of the same plan version, and the offer that
    takes it up (``directory.offers``: a service the caller may name, an initiative of the buurt)."""
    team = sa.select(col(Household.team_id)).where(col(Household.id) == HOUSEHOLD).scalar_subquery()
    buurt = sa.select(col(Household.buurt_id)).where(col(Household.id) == HOUSEHOLD).scalar_subquery()
    person = sa.select(col(NetworkPerson.id)).where(
        col(NetworkPerson.id) == LINKED_PERSON, col(NetworkPerson.household_id) == HOUSEHOLD
    )
    worker = sa.select(col(WorkerTeam.worker_id)).where(
        col(WorkerTeam.worker_id) == LINKED_WORKER, col(WorkerTeam.team_id) == team
    )
    goal = sa.select(col(PlanGoal.id)).where(col(PlanGoal.id) == LINKED_GOAL, col(PlanGoal.plan_id) == PARENT)
    return {
        "person": sa.or_(LINKED_PERSON.is_(None), person.exists()),
        "worker": sa.or_(LINKED_WORKER.is_(None), worker.exists()),
        "goal": sa.or_(LINKED_GOAL.is_(None), goal.exists()),
        **offers.service_facts(LINKED_SERVICE, SERVICE_INTERNAL),
        **offers.initiative_facts(LINKED_INITIATIVE, buurt),
    }


async def agreed_before(session: AsyncSession, household_id: uuid.UUID, plan_id: uuid.UUID) -> bool:
    """Whether another version of the household's plan was ever agreed to (the intake ended then)."""
    query = select(Plan.id).where(
        Plan.household_id == household_id, Plan.id != plan_id, col(Plan.agreed_at).is_not(None)
    )
    return (await session.scalar(query.limit(1))) is not None


async def members_of(
    session: AsyncSession, household_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    wanted = set(ids)
    if not wanted:
        return set()
    found = await session.scalars(
        select(Member.id).where(Member.household_id == household_id, col(Member.id).in_(wanted))
    )
    return set(found)


async def latest_scores(
    session: AsyncSession, household_id: uuid.UUID, domains: Iterable[str], on: date
) -> dict[str, tuple[int, date]]:
    """Per life domain, the latest score (the household's or any member's) assessed on or before ``on``:
    domain -> (score, assessed on). One query whatever the number of domains."""
    wanted = sorted(set(domains))
    if not wanted:
        return {}
    domain = col(AssessmentScore.domain_code)
    query = (
        sa.select(domain, col(AssessmentScore.score), col(Assessment.assessed_on))
        .join(Assessment, col(Assessment.id) == col(AssessmentScore.assessment_id))
        .where(
            col(Assessment.household_id) == household_id,
            domain.in_(wanted),
            col(Assessment.assessed_on) <= on,
        )
        .order_by(domain, col(Assessment.assessed_on).desc(), col(Assessment.created_at).desc())
        .ext(distinct_on(domain))
    )
    return {code: (score, day) for code, score, day in (await session.execute(query)).all()}


async def open_goals(session: AsyncSession, plan_id: uuid.UUID) -> list[tuple[PlanGoal, list[PlanAction]]]:
    """The goals of a version still open after their last evaluation (or never evaluated), in order,
    each with its actions not done yet. Three queries whatever the numbers."""
    last = (
        sa.select(col(PlanGoalEvaluation.goal_id), col(PlanGoalEvaluation.result))
        .join(PlanEvaluation, col(PlanEvaluation.id) == col(PlanGoalEvaluation.evaluation_id))
        .where(col(PlanEvaluation.plan_id) == plan_id)
        .order_by(
            col(PlanGoalEvaluation.goal_id),
            col(PlanEvaluation.evaluated_on).desc(),
            col(PlanEvaluation.created_at).desc(),
        )
        .ext(distinct_on(col(PlanGoalEvaluation.goal_id)))
    )
    results = {goal_id: result for goal_id, result in (await session.execute(last)).all()}
    goals, actions = await contents(session, [plan_id])
    kept = [g for g in goals[plan_id] if is_open(results.get(g.id))]
    return [(g, [a for a in actions[plan_id] if a.goal_id == g.id and not a.done]) for g in kept]


# -- a member's own view on an evaluation (``member_views``) -------------------------------------------

VIEWED_EVALUATION = sa.bindparam("v_evaluation_id", type_=sa.Uuid)
VIEWING_MEMBER = sa.bindparam("v_member_id", type_=sa.Uuid)
# The version an evaluation of the household's active plan is of: the aggregate a member's view is
# written in (no row: no such evaluation there).
EVALUATED_VERSION = RawStatement.of(
    sa.select(col(PlanEvaluation.plan_id))
    .join(Plan, col(Plan.id) == col(PlanEvaluation.plan_id))
    .where(
        col(PlanEvaluation.id) == sa.bindparam("evaluation_id", type_=sa.Uuid),
        col(Plan.household_id) == HOUSEHOLD,
        col(Plan.status) == sa.literal_column(f"'{PlanStatus.active}'"),
    )
)


def member_view_checks() -> dict[str, Any]:
    """The evaluation is of the statement's plan version (``parent_id``), and the member has not
    added a view to it yet."""
    return {
        "evaluation": sa.select(col(PlanEvaluation.id))
        .where(col(PlanEvaluation.id) == VIEWED_EVALUATION, col(PlanEvaluation.plan_id) == PARENT)
        .exists(),
        "first": ~sa.select(col(PlanEvaluationView.id))
        .where(
            col(PlanEvaluationView.evaluation_id) == VIEWED_EVALUATION,
            col(PlanEvaluationView.member_id) == VIEWING_MEMBER,
        )
        .exists(),
    }
