"""Household case-file tables: households, members, assignments, break-glass grants, contacts, themes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, timestamp_now, tz_datetime, uuid_pk


class HouseholdStatus(StrEnum):
    registered = "registered"
    intake = "intake"
    active = "active"
    aftercare = "aftercare"
    closed = "closed"


class ClosingReason(StrEnum):
    goals_reached = "goals_reached"
    referred_specialist = "referred_specialist"
    moved = "moved"
    declined_support = "declined_support"
    no_contact = "no_contact"
    deceased = "deceased"
    other = "other"


class MemberRole(StrEnum):
    parent = "parent"
    partner = "partner"
    child = "child"
    other_adult = "other_adult"
    other = "other"


class RecordedBy(StrEnum):
    """Who recorded a household's own decision (agreeing to a plan, withdrawing a consent): the team
    on the household's behalf, or the member themself in self-service."""

    team = "team"
    member = "member"


class ContactKind(StrEnum):
    home_visit = "home_visit"
    phone = "phone"
    office = "office"
    online = "online"


class Household(SQLModel, table=True):
    __tablename__ = "households"
    __table_args__ = (
        one_of("status", HouseholdStatus),
        sa.CheckConstraint(
            "closing_reason IS NULL OR closing_reason IN "
            "(" + ", ".join(f"'{r}'" for r in ClosingReason) + ")",
            name="closing_reason_allowed",
        ),
        sa.CheckConstraint("(status = 'closed') = (closing_reason IS NOT NULL)", name="closed_has_reason"),
        sa.Index("ix_households_team_id_created_at", "team_id", "created_at"),
    )

    id: uuid.UUID = uuid_pk()
    reference: str = Field(unique=True, max_length=20)
    team_id: uuid.UUID = Field(foreign_key="teams.id")
    buurt_id: uuid.UUID = Field(foreign_key="areas.id", index=True)
    postcode: str = Field(max_length=6)
    house_number: int
    house_number_addition: str | None = Field(default=None, max_length=10)
    coordinator_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id", index=True)
    status: str = Field(default=HouseholdStatus.registered, max_length=12)
    confidential: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Self-service for the household's members: the coordinator's choice, or None for the default
    # (on, unless the household is confidential). Marking a household confidential sets it off.
    self_service: bool | None = None
    closing_reason: str | None = Field(default=None, max_length=24)
    registered_at: datetime = timestamp_now()
    # When the file last went into aftercare (the aftercare period runs from here); null otherwise.
    aftercare_since: datetime | None = tz_datetime()
    closed_at: datetime | None = tz_datetime()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class HouseholdAssignment(SQLModel, table=True):
    """Workers explicitly assigned to a household (the only ones, with the coordinator, who see a
    confidential one)."""

    __tablename__ = "household_assignments"

    household_id: uuid.UUID = Field(foreign_key="households.id", primary_key=True, ondelete="CASCADE")
    worker_id: uuid.UUID = Field(foreign_key="workers.id", primary_key=True, index=True)
    assigned_by: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    assigned_at: datetime = timestamp_now()


class BreakGlassGrant(SQLModel, table=True):
    """Temporary access to a confidential household of one's own team, with a stated reason."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (
        sa.Index("ix_break_glass_grants_worker_household", "worker_id", "household_id"),
        sa.Index(
            "ix_break_glass_grants_unreviewed",
            "household_id",
            postgresql_where=sa.text("reviewed_at IS NULL"),
        ),
    )

    id: uuid.UUID = uuid_pk()
    household_id: uuid.UUID = Field(foreign_key="households.id", ondelete="CASCADE")
    worker_id: uuid.UUID = Field(foreign_key="workers.id")
    reason: str = Field(max_length=500)
    granted_at: datetime = timestamp_now()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # A team lead of the household's team looked at this use of the glass (the worklist asks them to).
    reviewed_at: datetime | None = tz_datetime()
    reviewed_by: uuid.UUID | None = Field(default=None, foreign_key="workers.id")


class Member(SQLModel, table=True):
    """A household member. The BSN is stored encrypted, with a keyed hash (blind index) for search."""

    __tablename__ = "members"
    __table_args__ = (
        one_of("role", MemberRole),
        # A member's sign-in account names the member and its household as one reference.
        sa.UniqueConstraint("id", "household_id", name="uq_members_id_household_id"),
    )

    id: uuid.UUID = uuid_pk()
    household_id: uuid.UUID = Field(foreign_key="households.id", index=True, ondelete="CASCADE")
    given_name: str = Field(max_length=80)
    family_name: str | None = Field(default=None, max_length=120)
    birth_date: date | None = None
    role: str = Field(max_length=12)
    bsn_ciphertext: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    bsn_index: str | None = Field(default=None, max_length=64, index=True)
    # Self-service for this member: the coordinator's choice, or None for the default (on for adults,
    # off for children, whose parents see the household's file).
    self_service: bool | None = None
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class ContactMoment(SQLModel, table=True):
    """A visit, call or meeting (contactmoment): one quick POST from the app."""

    __tablename__ = "contact_moments"
    __table_args__ = (
        one_of("kind", ContactKind),
        sa.CheckConstraint("minutes >= 0 AND minutes <= 1440", name="minutes_range"),
        sa.Index("ix_contact_moments_household_occurred", "household_id", "occurred_at"),
    )

    id: uuid.UUID = uuid_pk()
    household_id: uuid.UUID = Field(foreign_key="households.id", ondelete="CASCADE")
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    kind: str = Field(max_length=12)
    occurred_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    minutes: int = 0
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = timestamp_now()


class HouseholdTheme(SQLModel, table=True):
    __tablename__ = "household_themes"

    household_id: uuid.UUID = Field(foreign_key="households.id", primary_key=True, ondelete="CASCADE")
    theme_code: str = Field(foreign_key="themes.code", primary_key=True, index=True)
    added_at: datetime = timestamp_now()
