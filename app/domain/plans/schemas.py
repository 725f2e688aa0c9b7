"""Plan schemas: separate Create / Update / Read models; inputs refuse unknown fields.

Server-owned fields (revision, status, versions, agreement, referral links) are never writable here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.assessments.schemas import DomainCode, Score
from app.domain.inputs import AwareIsoDatetime, Flag, IsoDate
from app.domain.plans.models import PerformerKind, PlanStatus
from app.domain.text import MultiLine

Description = Annotated[MultiLine, Field(min_length=1, max_length=500)]
Summary = Annotated[MultiLine, Field(max_length=1000, description="The plan in a few sentences (optional).")]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActionFields(_Input):
    description: Description
    performer_kind: PerformerKind = Field(
        description="household, network_member (give network_person_id), volunteer, worker (optionally "
        "worker_id), or partner (linked to a referral by the referrals context)."
    )
    network_person_id: uuid.UUID | None = Field(default=None, description="A person of the network map.")
    worker_id: uuid.UUID | None = Field(default=None, description="A worker of the household's team.")
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
    evaluation_date: IsoDate | None = None
    goals: list[VersionGoal] = Field(default_factory=list, max_length=30)
    actions: list[VersionAction] = Field(
        default_factory=list, max_length=100, description="Actions that serve no single goal."
    )


class PlanUpdate(_Input):
    summary: Summary | None = None
    evaluation_date: IsoDate | None = None


class PlanAgreement(_Input):
    agreed_by_member_id: uuid.UUID = Field(description="The household member who agreed.")
    agreed_at: AwareIsoDatetime | None = Field(
        default=None, description="When (for agreements recorded offline); defaults to now, never ahead."
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
    due_date: date | None
    done: bool
    done_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


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
    created_by: uuid.UUID | None
    superseded_at: datetime | None
    version: int = Field(description="Row version behind the ETag; any change to goals or actions bumps it.")
    created_at: datetime
    updated_at: datetime


class PlanRead(PlanHeader):
    goals: list[GoalRead]
    actions: list[ActionRead]
