"""Initiatives context tables: resident networks, their areas and members, year plans, initiatives, grants.

This is the public side of the neighbourhood, not case data: residents' own plans, which the
municipality publishes. Public columns may be shown to anyone; contact details, member lists, grant
reasons and closing reports are for members of the network only.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, string_array, timestamp_now, uuid_pk


class NetworkRole(StrEnum):
    member = "member"
    coordinator = "coordinator"


class InitiativeStatus(StrEnum):
    idea = "idea"
    requested = "requested"
    granted = "granted"
    rejected = "rejected"
    running = "running"
    completed = "completed"


class GrantDecision(StrEnum):
    granted = "granted"
    rejected = "rejected"


def _version() -> Any:
    return Field(default=1, sa_column_kwargs={"server_default": "1", "nullable": False})


class ResidentNetwork(SQLModel, table=True):
    """A wijknetwerk: residents and partners who decide where the initiative budget of their area goes."""

    __tablename__ = "resident_networks"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "name", name="uq_resident_networks_name"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id", index=True)
    name: str = Field(max_length=120)
    version: int = _version()
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class NetworkArea(SQLModel, table=True):
    """The buurten a network covers."""

    __tablename__ = "network_areas"

    network_id: uuid.UUID = Field(foreign_key="resident_networks.id", primary_key=True, ondelete="CASCADE")
    area_id: uuid.UUID = Field(foreign_key="areas.id", primary_key=True, index=True)


class NetworkMember(SQLModel, table=True):
    """A member of a network. At least half of a network's members are residents (service invariant)."""

    __tablename__ = "network_members"
    __table_args__ = (
        one_of("role", NetworkRole),
        sa.UniqueConstraint("network_id", "user_id", name="uq_network_members_network_user"),
        sa.Index("ix_network_members_user_id", "user_id"),
    )

    id: uuid.UUID = uuid_pk()
    network_id: uuid.UUID = Field(foreign_key="resident_networks.id", index=True, ondelete="CASCADE")
    display_name: str = Field(max_length=120)
    is_resident: bool
    role: str = Field(default=NetworkRole.member, max_length=12)
    # The person's sign-in account, when they use the dashboard (role resident or network_coordinator).
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    version: int = _version()
    created_at: datetime = timestamp_now()


class YearPlan(SQLModel, table=True):
    """A network's plan for one year: priorities (themes) and the budget for initiatives.

    ``granted_cents`` is the running total of grants, kept under a row lock; the CHECK is the backstop.
    """

    __tablename__ = "year_plans"
    __table_args__ = (
        sa.UniqueConstraint("network_id", "year", name="uq_year_plans_network_year"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        sa.CheckConstraint("budget_cents >= 0", name="budget_not_negative"),
        sa.CheckConstraint(
            "granted_cents >= 0 AND granted_cents <= budget_cents", name="granted_within_budget"
        ),
    )

    id: uuid.UUID = uuid_pk()
    network_id: uuid.UUID = Field(foreign_key="resident_networks.id", index=True, ondelete="CASCADE")
    year: int
    priorities: list[str] = string_array()
    summary: str | None = Field(default=None, max_length=4000)
    budget_cents: int = Field(sa_type=sa.BigInteger)
    granted_cents: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    version: int = _version()
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class Initiative(SQLModel, table=True):
    """A resident initiative (bewonersinitiatief) and its lifecycle."""

    __tablename__ = "initiatives"
    __table_args__ = (
        one_of("status", InitiativeStatus),
        sa.CheckConstraint("requested_cents IS NULL OR requested_cents > 0", name="requested_positive"),
        sa.CheckConstraint("granted_cents IS NULL OR granted_cents >= 0", name="granted_not_negative"),
        sa.CheckConstraint("spent_cents IS NULL OR spent_cents >= 0", name="spent_not_negative"),
        sa.CheckConstraint("participants_reached IS NULL OR participants_reached >= 0", name="participants"),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates"),
        sa.Index("ix_initiatives_buurt_created", "buurt_id", "created_at", "id"),
        sa.Index("ix_initiatives_network_created", "network_id", "created_at", "id"),
        sa.Index("ix_initiatives_created", "created_at", "id"),
        sa.Index("ix_initiatives_themes", "themes", postgresql_using="gin"),
    )

    id: uuid.UUID = uuid_pk()
    network_id: uuid.UUID = Field(foreign_key="resident_networks.id", ondelete="CASCADE")
    buurt_id: uuid.UUID = Field(foreign_key="areas.id")
    year_plan_id: uuid.UUID | None = Field(default=None, foreign_key="year_plans.id", index=True)
    title: str = Field(max_length=160)
    summary: str = Field(max_length=2000)
    themes: list[str] = string_array()
    status: str = Field(default=InitiativeStatus.idea, max_length=12)
    initiator_name: str = Field(max_length=120)
    initiator_email: str | None = Field(default=None, max_length=254)
    initiator_phone: str | None = Field(default=None, max_length=32)
    requested_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    granted_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    spent_cents: int | None = Field(default=None, sa_type=sa.BigInteger)  # reported with the closing report
    starts_on: date | None = None
    ends_on: date | None = None
    participants_reached: int | None = None
    report: str | None = Field(default=None, max_length=4000)
    proposed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    version: int = _version()
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class Grant(SQLModel, table=True):
    """A network's decision on an initiative's request: granted (an amount) or rejected, with a reason."""

    __tablename__ = "initiative_grants"
    __table_args__ = (
        one_of("decision", GrantDecision),
        sa.CheckConstraint(
            "(decision = 'granted' AND amount_cents > 0) OR (decision = 'rejected' AND amount_cents = 0)",
            name="amount_matches_decision",
        ),
    )

    id: uuid.UUID = uuid_pk()
    initiative_id: uuid.UUID = Field(foreign_key="initiatives.id", unique=True, ondelete="CASCADE")
    year_plan_id: uuid.UUID = Field(foreign_key="year_plans.id", index=True)
    decision: str = Field(max_length=10)
    amount_cents: int = Field(default=0, sa_type=sa.BigInteger)
    reason: str = Field(max_length=2000)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    decided_at: datetime = timestamp_now()
