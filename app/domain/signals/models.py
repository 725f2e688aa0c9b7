"""Policy-signal tables: the signal, its transitions (who moved it when), and the households it
stands for (only the raising team ever sees which; everyone else a protected count)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, string_array, timestamp_now, tz_datetime, uuid_pk


class SignalStatus(StrEnum):
    draft = "draft"  # a worker writes it
    submitted = "submitted"  # a team lead brought it to the team leads' meeting, and on to policy staff
    in_consideration = "in_consideration"  # a policy officer took it
    answered = "answered"  # the answer, with its reasoning
    closed = "closed"  # the outcome: what changed, from when


class SignalAnswer(StrEnum):
    exemption_granted = "exemption_granted"  # for these cases, the rule is set aside
    policy_will_change = "policy_will_change"
    no_change = "no_change"


class PolicySignal(SQLModel, table=True):
    """One signal of one team. Its texts hold no personal data (checked on every write); the
    households it stands for are in ``policy_signal_households``. A bundled signal follows the one it
    was bundled into (``bundled_into_id``), which carries the answer for all of them."""

    __tablename__ = "policy_signals"
    __table_args__ = (
        one_of("status", SignalStatus),
        one_of("answer", SignalAnswer),
        sa.CheckConstraint(
            "status NOT IN ('answered', 'closed') OR (answer IS NOT NULL AND answer_reasoning IS NOT NULL)",
            name="answer_present",
        ),
        sa.CheckConstraint(
            "status <> 'closed' OR (outcome IS NOT NULL AND outcome_from IS NOT NULL)", name="outcome_present"
        ),
        sa.Index("ix_policy_signals_team_id_created_at", "team_id", "created_at"),
        sa.Index("ix_policy_signals_municipality_id_status", "municipality_id", "status"),
    )

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id")
    team_id: uuid.UUID = Field(foreign_key="teams.id")
    area_id: uuid.UUID | None = Field(default=None, foreign_key="areas.id")  # a wijk; None: the gemeente
    status: str = Field(default=SignalStatus.draft, max_length=16)
    title: str = Field(max_length=160)
    situation: str = Field(max_length=4000)
    rule_reference: str = Field(max_length=300)
    rule_quote: str | None = Field(default=None, max_length=1000)
    solution: str = Field(max_length=2000)
    themes: list[str] = string_array()
    life_domains: list[str] = string_array()
    bundled_into_id: uuid.UUID | None = Field(default=None, foreign_key="policy_signals.id", index=True)
    answer: str | None = Field(default=None, max_length=20)
    answer_reasoning: str | None = Field(default=None, max_length=4000)
    outcome: str | None = Field(default=None, max_length=2000)
    outcome_from: date | None = None
    created_by_worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    submitted_at: datetime | None = tz_datetime()
    answered_at: datetime | None = tz_datetime()
    closed_at: datetime | None = tz_datetime()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class PolicySignalTransition(SQLModel, table=True):
    """Every step of a signal: from and to which status, who (subject, role, worker) and when."""

    __tablename__ = "policy_signal_transitions"
    __table_args__ = (
        sa.Index("ix_policy_signal_transitions_signal_id_occurred_at", "signal_id", "occurred_at"),
    )

    id: uuid.UUID = uuid_pk()
    signal_id: uuid.UUID = Field(foreign_key="policy_signals.id", ondelete="CASCADE")
    from_status: str | None = Field(default=None, max_length=16)  # null for the draft's creation
    to_status: str = Field(max_length=16)
    bundled_into_id: uuid.UUID | None = None  # set when this step bundled the signal into another
    actor_subject: str = Field(max_length=255)
    actor_role: str = Field(max_length=24)
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    occurred_at: datetime = timestamp_now()


class PolicySignalHousehold(SQLModel, table=True):
    """A household the signal stands for: private to the raising team."""

    __tablename__ = "policy_signal_households"

    signal_id: uuid.UUID = Field(foreign_key="policy_signals.id", primary_key=True, ondelete="CASCADE")
    household_id: uuid.UUID = Field(
        foreign_key="households.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    linked_at: datetime = timestamp_now()
