"""Assessment schemas: separate Create / Update / Read models; inputs refuse unknown fields."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.assessments.rules import Tier
from app.domain.inputs import IsoDate, WholeNumber
from app.domain.text import MultiLine, SingleLine

Score = Annotated[
    int, Field(ge=1, le=5, description="1 acute problem ... 5 fully self-reliant."), WholeNumber
]
DomainCode = Annotated[
    SingleLine,
    Field(min_length=1, max_length=40, description="A life-domain code from the configured list."),
]
Note = Annotated[MultiLine, Field(max_length=500, description="A short note (optional).")]


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: DomainCode
    score: Score


class AssessmentCreate(BaseModel):
    """Scores for a member (``member_id``) or for the household as a whole (no ``member_id``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "assessed_on": "2026-11-20",
                    "scores": [{"domain": "finances", "score": 2}, {"domain": "housing", "score": 4}],
                }
            ]
        },
    )

    member_id: uuid.UUID | None = Field(default=None, description="A member of this household.")
    assessed_on: IsoDate = Field(description="Local date of the assessment; not in the future.")
    note: Note | None = None
    scores: list[ScoreIn] = Field(min_length=1, max_length=40, description="One score per domain.")


class AssessmentUpdate(BaseModel):
    """Correct an assessment. ``scores``, when given, replaces all of its scores."""

    model_config = ConfigDict(extra="forbid")

    assessed_on: IsoDate | None = None
    note: Note | None = None
    scores: list[ScoreIn] | None = Field(default=None, min_length=1, max_length=40)


class ScoreRead(BaseModel):
    domain: str
    score: int


class AssessmentRead(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID
    member_id: uuid.UUID | None
    assessed_on: date
    assessed_by: uuid.UUID | None
    note: str | None
    scores: list[ScoreRead]
    version: int
    created_at: datetime
    updated_at: datetime


class LatestScore(BaseModel):
    domain: str
    member_id: uuid.UUID | None = Field(description="Null for a score of the household as a whole.")
    score: int
    assessed_on: date
    assessment_id: uuid.UUID


class AssessmentSummary(BaseModel):
    """The latest score per (person, domain) and the 80-20-5 tier derived from them."""

    tier: Tier | None = Field(
        description="self_reliant (80%), support (20%) or specialist (5%); null before any assessment."
    )
    latest: list[LatestScore]
