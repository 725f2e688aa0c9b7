"""Plan schemas: separate Create / Update / Read models; inputs refuse unknown fields.

Server-owned fields (revision, status, versions, agreement, referral links) are never writable here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.assessments.schemas import DomainCode, Score
from app.domain.households.models import RecordedBy
from app.domain.inputs import AwareIsoDatetime, Flag, IsoDate, WholeNumber
from app.domain.plans.models import GoalResult, PerformerKind, PlanClosingReason, PlanStatus
from app.domain.text import MultiLine, SingleLine

Description = Annotated[MultiLine, Field(min_length=1, max_length=500)]
Summary = Annotated[MultiLine, Field(max_length=1000, description="The plan in a few sentences (optional).")]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


VersionInBody = Annotated[
    Annotated[int, Field(ge=1), WholeNumber] | None,
    Field(
        default=None,
        description="The plan version you agreed, closed or edited, instead of If-Match (e.g. the "
        "`version` the version's creation answered): no read is needed first.",
    ),
]


class AgreementFields(_Input):
    agreed_by_member_id: uuid.UUID = Field(description="The household member who agreed.")
    agreed_at: AwareIsoDatetime | None = Field(
        default=None, description="When (for agreements recorded offline); defaults to now, never ahead."
    )


class ActionFields(_Input):
    description: Description
    performer_kind: PerformerKind = Field(
        description="household, network_member (give network_person_id), volunteer, worker (optionally "
        "worker_id), or partner (linked to a referral by the referrals context)."
    )
    network_person_id: uuid.UUID | None = Field(default=None, description="A person of the network map.")
    worker_id: uuid.UUID | None = Field(default=None, description="A worker of the household's team.")
    service_id: uuid.UUID | None = Field(
        default=None, description="An active service of the sociale kaart that takes the action up."
    )
    initiative_id: uuid.UUID | None = Field(
        default=None,
        description="A running resident initiative of the household's buurt the household (or a network "
        "member, a volunteer) joins; not together with service_id.",
    )
    due_date: IsoDate | None = None
    done: Flag = False


class VersionAction(ActionFields):
    continues_action_id: uuid.UUID | None = Field(
        default=None,
        description="The action of the superseded version this one continues (keeps its referral link).",
    )


class VersionGoal(_Input):
    domain: DomainCode
    target_score: Score
    description: Description | None = None
    actions: list[VersionAction] = Field(default_factory=list, max_length=50)


class PlanVersionCreate(_Input):
    """A new plan version with its whole content; it replaces the active version in one step."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "supersedes_id": None,
                    "evaluation_date": "2027-03-01",
                    "goals": [
                        {
                            "domain": "finances",
                            "target_score": 4,
                            "description": "Overview of debts, a payment plan",
                            "actions": [
                                {
                                    "description": "Sort the post together every week",
                                    "performer_kind": "household",
                                    "due_date": "2026-12-15",
                                }
                            ],
                        }
                    ],
                }
            ]
        },
    )

    supersedes_id: uuid.UUID | None = Field(
        description="The active version this replaces (null for the household's first plan)."
    )
    summary: Summary | None = None
    evaluation_date: IsoDate | None = Field(
        default=None,
        description="When to evaluate with the household; by default set at agreement, the configured "
        "number of months after it.",
    )
    goals: list[VersionGoal] = Field(default_factory=list, max_length=30)
    actions: list[VersionAction] = Field(
        default_factory=list, max_length=100, description="Actions that serve no single goal."
    )
    carry_forward_open_goals: Flag = Field(
        default=False,
        description="Start with the goals of the version this one supersedes that are still open (their "
        "last evaluation: partly or not reached, or none yet), each with its open actions (referral "
        "links kept); the goals given follow them.",
    )
    agreement: AgreementFields | None = Field(
        default=None,
        description="The household agreed to this version as written: recorded with it, in the same request.",
    )


class PlanUpdate(_Input):
    summary: Summary | None = None
    evaluation_date: IsoDate | None = None


class PlanAgreement(AgreementFields):
    expected_version: VersionInBody


class PlanClosing(_Input):
    """End the plan without a successor (the history stays readable)."""

    reason: PlanClosingReason = Field(
        description="Why; `household_closed` is set by the service when the household's file closes."
    )
    note: MultiLine | None = Field(default=None, max_length=500)
    expected_version: VersionInBody


class GoalEvaluationIn(_Input):
    goal_id: uuid.UUID = Field(description="A goal of this plan version.")
    result: GoalResult
    note: MultiLine | None = Field(default=None, max_length=500, description="A short note (optional).")


class PlanEvaluationCreate(_Input):
    """An evaluation with the household: every goal of the version, once."""

    evaluated_on: IsoDate | None = Field(default=None, description="Local date; default today, never ahead.")
    member_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="The household members who took part."
    )
    others: SingleLine | None = Field(
        default=None, max_length=200, description="Who else took part, by role (e.g. 'debt counsellor')."
    )
    household_view: MultiLine | None = Field(
        default=None, max_length=1000, description="The household's view, in their words."
    )
    goals: list[GoalEvaluationIn] = Field(min_length=1, max_length=30)
    next_evaluation_date: IsoDate | None = Field(
        default=None, description="Default: the configured number of months after this evaluation."
    )


class GoalCreate(_Input):
    domain: DomainCode
    target_score: Score
    description: Description | None = None


class GoalUpdate(_Input):
    domain: DomainCode | None = None
    target_score: Score | None = None
    description: Description | None = None


class ActionCreate(ActionFields):
    goal_id: uuid.UUID | None = Field(default=None, description="A goal of the same plan version.")


class ActionUpdate(_Input):
    goal_id: uuid.UUID | None = None
    description: Description | None = None
    performer_kind: PerformerKind | None = None
    network_person_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None
    initiative_id: uuid.UUID | None = None
    due_date: IsoDate | None = None
    done: Flag | None = None


class GoalRead(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    domain: str
    target_score: int
    description: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class ActionRead(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    goal_id: uuid.UUID | None
    description: str
    performer_kind: PerformerKind
    network_person_id: uuid.UUID | None
    worker_id: uuid.UUID | None
    referral_id: uuid.UUID | None = Field(description="Set by the referrals context for partner actions.")
    service_id: uuid.UUID | None = Field(description="The service of the sociale kaart that takes it up.")
    initiative_id: uuid.UUID | None = Field(description="The resident initiative the household joins.")
    due_date: date | None
    done: bool
    done_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class GoalEvaluationRead(BaseModel):
    goal_id: uuid.UUID
    result: GoalResult
    note: str | None
    score: int | None = Field(
        description="The latest self-sufficiency score of the goal's life domain on the evaluation date "
        "(the household's or a member's, whichever was assessed last); null when never scored."
    )
    score_assessed_on: date | None


class MemberViewRead(BaseModel):
    """A household member's own view on an evaluation, added by the member in self-service."""

    member_id: uuid.UUID
    view: str
    created_at: datetime


class PlanEvaluationRead(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    evaluated_on: date
    evaluated_by: uuid.UUID | None
    member_ids: list[uuid.UUID]
    others: str | None
    household_view: str | None = Field(description="The household's view as the worker recorded it.")
    member_views: list[MemberViewRead] = Field(
        description="Views the members added themselves in self-service (one per member), oldest first."
    )
    goals: list[GoalEvaluationRead]
    created_at: datetime


class PlanHeader(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID
    revision: int = Field(description="The plan version number: 1, 2, ... per household.")
    status: PlanStatus
    supersedes_id: uuid.UUID | None
    summary: str | None
    evaluation_date: date | None
    agreed_at: datetime | None
    agreed_by_member_id: uuid.UUID | None
    agreement_recorded_by: RecordedBy | None = Field(
        description="team: the team noted the agreement; member: the member gave it in self-service."
    )
    created_by: uuid.UUID | None
    superseded_at: datetime | None
    closed_at: datetime | None
    closing_reason: PlanClosingReason | None
    closing_note: str | None
    closed_by: uuid.UUID | None
    version: int = Field(description="Row version behind the ETag; any change to goals or actions bumps it.")
    created_at: datetime
    updated_at: datetime


class PlanRead(PlanHeader):
    goals: list[GoalRead]
    actions: list[ActionRead]
    evaluations: list[PlanEvaluationRead] = Field(description="Newest first.")
