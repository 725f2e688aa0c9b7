"""Plan tables. One ACTIVE plan per household is a database rule (a partial unique index); older
versions stay as ``superseded`` history, each with its own goals and actions; a plan that ends
without a successor is ``closed`` (with a reason). Evaluations record, per goal, how far it got.

``plan_actions.referral_id`` links a partner action to the referral that carries it out (the team
keeps the lead); the referrals context sets it, and its migration 0051 added the foreign key.
``service_id`` / ``initiative_id`` name what takes an action up: a service of the sociale kaart or a
running resident initiative (migration 0155).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, timestamp_now, tz_datetime, uuid_pk
from app.domain.households.models import RecordedBy


class PlanStatus(StrEnum):
    active = "active"
    superseded = "superseded"  # a newer version replaced it
    closed = "closed"  # ended without a successor (reason in closing_reason)


class PlanClosingReason(StrEnum):
    goals_reached = "goals_reached"
    household_closed = "household_closed"  # set when the household's file closes
    referred_specialist = "referred_specialist"  # the support continues elsewhere
    declined_support = "declined_support"
    other = "other"


class GoalResult(StrEnum):
    reached = "reached"
    partly = "partly"  # partly reached
    not_reached = "not_reached"
    dropped = "dropped"  # no longer a goal of the household


OPEN_RESULTS = frozenset({GoalResult.partly, GoalResult.not_reached})


class PerformerKind(StrEnum):
    household = "household"
    network_member = "network_member"  # a person of the informal network map
    volunteer = "volunteer"
    worker = "worker"
    partner = "partner"  # through a referral


class Plan(SQLModel, table=True):
    __tablename__ = "plans"
    __table_args__ = (
        one_of("status", PlanStatus),
        sa.UniqueConstraint("household_id", "revision", name="uq_plans_household_revision"),
        sa.Index(
            "uq_plans_one_active_per_household",
            "household_id",
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
        ),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
        sa.CheckConstraint(
            "agreement_recorded_by IS NULL OR agreement_recorded_by IN ("
            + ", ".join(f"'{r}'" for r in RecordedBy)
            + ")",
            name="agreement_recorded_by_allowed",
        ),
        sa.CheckConstraint(
            "(agreed_at IS NULL) = (agreement_recorded_by IS NULL)", name="agreement_recorded_by_set"
        ),
        sa.CheckConstraint("(status = 'closed') = (closing_reason IS NOT NULL)", name="closed_has_reason"),
        sa.CheckConstraint(
            "closing_reason IS NULL OR closing_reason IN "
            "(" + ", ".join(f"'{r}'" for r in PlanClosingReason) + ")",
            name="closing_reason_allowed",
        ),
    )

    id: uuid.UUID = uuid_pk()
    household_id: uuid.UUID = Field(foreign_key="households.id", ondelete="CASCADE")
    revision: int  # the plan version: 1, 2, ... per household
    status: str = Field(default=PlanStatus.active, max_length=12)
    supersedes_id: uuid.UUID | None = Field(default=None, foreign_key="plans.id")
    summary: str | None = Field(default=None, max_length=1000)
    evaluation_date: date | None = None
    agreed_at: datetime | None = tz_datetime()
    agreed_by_member_id: uuid.UUID | None = Field(default=None, foreign_key="members.id", ondelete="SET NULL")
    # The team recorded the agreement, or the member gave it themself (self-service).
    agreement_recorded_by: str | None = Field(default=None, max_length=8)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    superseded_at: datetime | None = tz_datetime()
    closed_at: datetime | None = tz_datetime()
    closing_reason: str | None = Field(default=None, max_length=24)
    closing_note: str | None = Field(default=None, max_length=500)
    closed_by: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class PlanGoal(SQLModel, table=True):
    __tablename__ = "plan_goals"
    __table_args__ = (sa.CheckConstraint("target_score BETWEEN 1 AND 5", name="target_score_range"),)

    id: uuid.UUID = uuid_pk()
    plan_id: uuid.UUID = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    domain_code: str = Field(foreign_key="life_domains.code", max_length=40)
    target_score: int
    description: str | None = Field(default=None, max_length=500)
    position: int = 0
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class PlanAction(SQLModel, table=True):
    __tablename__ = "plan_actions"
    __table_args__ = (
        one_of("performer_kind", PerformerKind),
        # Links only fit their performer kind. A network person may be removed from the map later
        # (minimisation, retention), which nulls the link but keeps the action.
        sa.CheckConstraint(
            "network_person_id IS NULL OR performer_kind = 'network_member'", name="network_person_kind"
        ),
        sa.CheckConstraint("worker_id IS NULL OR performer_kind = 'worker'", name="worker_kind"),
        sa.CheckConstraint("referral_id IS NULL OR performer_kind = 'partner'", name="referral_kind"),
        # An action is taken up by a service of the sociale kaart or by a resident initiative, not both.
        sa.CheckConstraint("service_id IS NULL OR initiative_id IS NULL", name="one_offer"),
        sa.CheckConstraint("done = (done_at IS NOT NULL)", name="done_has_time"),
    )

    id: uuid.UUID = uuid_pk()
    plan_id: uuid.UUID = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    goal_id: uuid.UUID | None = Field(
        default=None, foreign_key="plan_goals.id", ondelete="SET NULL", index=True
    )
    description: str = Field(max_length=500)
    performer_kind: str = Field(max_length=16)
    network_person_id: uuid.UUID | None = Field(
        default=None, foreign_key="network_people.id", ondelete="SET NULL", index=True
    )
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    referral_id: uuid.UUID | None = Field(default=None, index=True, foreign_key="referrals.id")
    # What takes the action up: a service of the directory, or a running resident initiative of the
    # household's buurt (the collective answer). An entry that goes away leaves the action standing.
    service_id: uuid.UUID | None = Field(
        default=None, foreign_key="directory_services.id", ondelete="SET NULL", index=True
    )
    initiative_id: uuid.UUID | None = Field(
        default=None, foreign_key="initiatives.id", ondelete="SET NULL", index=True
    )
    due_date: date | None = None
    done: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    done_at: datetime | None = tz_datetime()
    position: int = 0
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class PlanEvaluation(SQLModel, table=True):
    """One evaluation of a plan version with the household: who took part, the household's view, and
    (``PlanGoalEvaluation``) how far each goal got."""

    __tablename__ = "plan_evaluations"
    __table_args__ = (sa.Index("ix_plan_evaluations_plan_evaluated", "plan_id", "evaluated_on"),)

    id: uuid.UUID = uuid_pk()
    plan_id: uuid.UUID = Field(foreign_key="plans.id", ondelete="CASCADE")
    evaluated_on: date
    evaluated_by: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    member_ids: list[uuid.UUID] = Field(
        default_factory=list,
        sa_type=sa.ARRAY(sa.Uuid()),
        sa_column_kwargs={"nullable": False, "server_default": "{}"},
    )  # household members who took part
    others: str | None = Field(default=None, max_length=200)  # e.g. "debt counsellor", "neighbour"
    household_view: str | None = Field(default=None, max_length=1000)
    created_at: datetime = timestamp_now()


class PlanGoalEvaluation(SQLModel, table=True):
    """One goal's result in one evaluation, with the latest self-sufficiency score of the goal's life
    domain at the time (the household's or any member's, whichever was assessed last)."""

    __tablename__ = "plan_goal_evaluations"
    __table_args__ = (
        one_of("result", GoalResult),
        sa.CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="score_range"),
    )

    evaluation_id: uuid.UUID = Field(foreign_key="plan_evaluations.id", primary_key=True, ondelete="CASCADE")
    goal_id: uuid.UUID = Field(foreign_key="plan_goals.id", primary_key=True, ondelete="CASCADE", index=True)
    result: str = Field(max_length=12)
    note: str | None = Field(default=None, max_length=500)
    score: int | None = None
    score_assessed_on: date | None = None


class PlanEvaluationView(SQLModel, table=True):
    """A household member's own view on an evaluation, added by the member in self-service: beside the
    household's view the worker recorded (``PlanEvaluation.household_view``), never over it. One per
    member per evaluation. ``plan_id`` names the version the evaluation is of (a view is part of
    it: adding one counts its version up and syncs it as a plan change)."""

    __tablename__ = "plan_evaluation_views"
    __table_args__ = (
        sa.UniqueConstraint("evaluation_id", "member_id", name="uq_plan_evaluation_views_member"),
    )

    id: uuid.UUID = uuid_pk()
    plan_id: uuid.UUID = Field(foreign_key="plans.id", ondelete="CASCADE", index=True)
    evaluation_id: uuid.UUID = Field(foreign_key="plan_evaluations.id", ondelete="CASCADE")
    member_id: uuid.UUID = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    view: str = Field(max_length=1000)
    created_at: datetime = timestamp_now()
