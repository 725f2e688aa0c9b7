"""The ``retention_runs`` table (every purge run, dry or not, leaves one row: that is how the job
"logs that it did") and the indexes the purge needs on other contexts' tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, table_of, timestamp_now, tz_datetime, uuid_pk
from app.domain.households.models import ContactMoment, Household
from app.domain.unit_of_work.change_feed import CaseChange


class RunOutcome(StrEnum):
    running = "running"  # started; a row left in this state means the run died half-way
    completed = "completed"
    failed = "failed"
    skipped = "skipped"  # another purge held the lock


class RetentionRun(SQLModel, table=True):
    __tablename__ = "retention_runs"
    __table_args__ = (
        one_of("outcome", RunOutcome),
        sa.Index("ix_retention_runs_started_at", "started_at"),
        sa.Index("ix_retention_runs_change_feed_horizon", "change_feed_horizon"),
    )

    id: uuid.UUID = uuid_pk()
    started_at: datetime = timestamp_now()
    finished_at: datetime | None = tz_datetime()
    actor: str = Field(max_length=120)  # who or what ran it, e.g. "cli:ops" (never a resident)
    dry_run: bool
    outcome: str = Field(default=RunOutcome.running, max_length=10)
    # Rows removed (or, for a dry run, that would be) per category; see rules.Category.
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSONB)
    # The retention terms (days) this run applied, as configured at the time.
    terms_days: dict[str, int] = Field(default_factory=dict, sa_type=JSONB)
    # Change-feed rows up to this transaction id are gone: a sync cursor at or below it must reset.
    change_feed_horizon: int | None = Field(default=None, sa_type=sa.BigInteger)
    error: str | None = Field(default=None, max_length=200)  # the exception type only, never a message


# The purge walks these tables by age. The indexes belong to the job, so they are declared here.
sa.Index("ix_case_changes_changed_at", table_of(CaseChange).c.changed_at)
sa.Index(
    "ix_contact_moments_note_occurred_at",
    table_of(ContactMoment).c.occurred_at,
    postgresql_where=sa.text("note IS NOT NULL"),  # blanked notes leave the index
)
sa.Index(
    "ix_households_closed_at",
    table_of(Household).c.closed_at,
    postgresql_where=sa.text("closed_at IS NOT NULL"),
)
