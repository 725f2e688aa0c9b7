"""Assessment tables: one assessment (a dated *meting*) scores one or more life domains."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import timestamp_now, uuid_pk


class Assessment(SQLModel, table=True):
    """Scores for a member (``member_id``) or for the household as a whole (``member_id`` null)."""

    __tablename__ = "assessments"
    __table_args__ = (sa.Index("ix_assessments_household_assessed", "household_id", "assessed_on"),)

    id: uuid.UUID = uuid_pk()
    household_id: uuid.UUID = Field(foreign_key="households.id", ondelete="CASCADE")
    member_id: uuid.UUID | None = Field(
        default=None, foreign_key="members.id", ondelete="CASCADE", index=True
    )
    assessed_on: date
    assessed_by: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    note: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class AssessmentScore(SQLModel, table=True):
    """One domain's score within an assessment: 1 acute problem ... 5 fully self-reliant."""

    __tablename__ = "assessment_scores"
    __table_args__ = (sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    assessment_id: uuid.UUID = Field(foreign_key="assessments.id", primary_key=True, ondelete="CASCADE")
    domain_code: str = Field(foreign_key="life_domains.code", primary_key=True, max_length=40, index=True)
    score: int


class HouseholdTier(SQLModel, table=True):
    """The 80-20-5 tier of a household that has scores (``rules.tier_sql`` over its latest scores),
    kept by PostgreSQL: triggers on ``assessments`` and ``assessment_scores`` work it out again for
    every household a statement touched (migration 0205), so no write path has to remember it and the
    worklist, the caseload and the sync entity read one row instead of every score. A household
    without scores has no row (no tier)."""

    __tablename__ = "household_tiers"
    __table_args__ = (
        sa.CheckConstraint("tier IN ('self_reliant', 'support', 'specialist')", name="tier_known"),
    )

    household_id: uuid.UUID = Field(foreign_key="households.id", primary_key=True, ondelete="CASCADE")
    tier: str = Field(max_length=16)
