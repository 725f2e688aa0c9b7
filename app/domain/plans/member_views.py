"""A household member's own view on an evaluation of their household's plan (self-service), beside the
household's view the worker recorded with the evaluation, never over it.

One case-write statement (``households.case_write``) takes the member's own rule
(``households.access.HOUSEHOLD_MEMBER_RULE``: self-service on for them, the row names them), checks
that the evaluation is of the household's active plan version and that the member has no view on it
yet, writes the view, counts the version up (the team's ETag covers its evaluations) and records a
``plan`` change (the phones reload the version), with the member's access-log entry. One view per
member per evaluation: a second one is a 409 (the view is the member's word at that moment, as the
worker's record of the evaluation is; the member adds it once).
"""

from __future__ import annotations

import uuid

from app.domain.base import utcnow
from app.domain.errors import Conflict, NotFound
from app.domain.households.case_outcome import Outcome
from app.domain.households.case_sql import Within
from app.domain.households.case_write import CaseInsert
from app.domain.plans import repository as repo
from app.domain.plans.models import Plan, PlanEvaluationView
from app.domain.plans.schemas import MemberViewRead
from app.domain.plans.sync_and_export import ENTITY
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "plan_evaluation_view"

ADD_VIEW = CaseInsert(
    PlanEvaluationView,
    ("id", "plan_id", "evaluation_id", "member_id", "view", "created_at"),
    entity=ENTITY,
    within=Within(Plan, "plan_id", "evaluation"),
    members_own="member_id",
    checks=repo.member_view_checks(),
)


def _view_rules(outcome: Outcome) -> None:
    if outcome.failed("evaluation"):
        raise NotFound("evaluation")
    if outcome.failed("first"):
        raise Conflict("You already added your view to this evaluation.", rule="evaluation_view_exists")


async def add_member_view(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    evaluation_id: uuid.UUID,
    view: str,
    *,
    purpose: str,
) -> MemberViewRead:
    """The signed-in member's view on an evaluation of their household's active plan."""
    found = await uow.fetch_one(
        repo.EVALUATED_VERSION, {"household_id": household_id, "evaluation_id": evaluation_id}
    )
    plan_id = found["plan_id"] if found is not None else None
    view_id = uuid.uuid4()
    entry = uow.log(
        principal,
        resource=RESOURCE,
        action=AccessAction.create,
        purpose=purpose,
        household_id=household_id,
        person_id=principal.member_id,
        resource_id=view_id,
    )
    row = {
        "id": view_id,
        "plan_id": plan_id,
        "evaluation_id": evaluation_id,
        "member_id": principal.member_id,
        "view": view,
        "created_at": utcnow(),
    }
    outcome = await ADD_VIEW.run(uow, principal, entry, row, household_id=household_id, parent_id=plan_id)
    outcome.raise_unless_written(rules=lambda: _view_rules(outcome))
    assert principal.member_id is not None  # the statement wrote it: the member's own row
    return MemberViewRead(member_id=principal.member_id, view=view, created_at=row["created_at"])
