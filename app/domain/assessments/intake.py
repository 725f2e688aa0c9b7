"""The quick intake: one request registers a household with its members, themes, the intake's contact
moment with the worker's first note and, optionally, a first assessment, in one transaction.

It spans two contexts (the household's file and its assessments), so it lives with the higher of
the two and calls both services in the caller's unit of work: either everything is written, or
nothing is.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.domain.assessments import service as assessments
from app.domain.assessments.rules import local_today
from app.domain.assessments.schemas import AssessmentCreate, AssessmentRead, Note, ScoreIn
from app.domain.base import utcnow
from app.domain.errors import FieldError, ValidationFailed
from app.domain.households import service as households
from app.domain.households.bsn import BsnProtector
from app.domain.households.schemas import HouseholdCreate, HouseholdCreated
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal


class IntakeAssessment(BaseModel):
    """A first assessment, made at the intake: of the household as a whole, or of one of the members
    registered with it (by position)."""

    model_config = ConfigDict(extra="forbid")

    member: int | None = Field(
        default=None, ge=0, le=19, description="Position in `members` (0 is the first); null: the household."
    )
    assessed_on: date | None = Field(default=None, description="Local date; default today.")
    note: Note | None = None
    scores: list[ScoreIn] = Field(min_length=1, max_length=40, description="One score per life domain.")


class IntakeCreate(HouseholdCreate):
    assessment: IntakeAssessment | None = Field(default=None, description="Optional: a first assessment.")


class IntakeCreated(HouseholdCreated):
    assessment: AssessmentRead | None = None


async def register(
    uow: UnitOfWork, principal: Principal, data: IntakeCreate, protector: BsnProtector
) -> IntakeCreated:
    """Register the household (``households.create_household``) and make its first assessment."""
    household = data.model_dump(exclude={"assessment"})
    created = await households.create_household(
        uow, principal, HouseholdCreate.model_validate(household), protector
    )
    assessment = None
    if data.assessment is not None:
        assessment = await _first_assessment(uow, principal, created, data.assessment)
    return IntakeCreated(**created.model_dump(), assessment=assessment)


async def _first_assessment(
    uow: UnitOfWork, principal: Principal, created: HouseholdCreated, given: IntakeAssessment
) -> AssessmentRead:
    member_id = None
    if given.member is not None:
        if given.member >= len(created.members):
            loc = ("body", "assessment", "member")
            raise ValidationFailed([FieldError(loc, "No member at this position.", "member_unknown")])
        member_id = created.members[given.member].id
    data = AssessmentCreate(
        member_id=member_id,
        assessed_on=given.assessed_on or local_today(utcnow()),
        note=given.note,
        scores=given.scores,
    )
    try:
        return await assessments.create(uow, principal, created.id, data)
    except ValidationFailed as failed:  # the assessment's fields sit under "assessment" here
        raise ValidationFailed(
            [FieldError(("body", "assessment", *e.loc[1:]), e.message, e.rule) for e in failed.errors]
        ) from None
