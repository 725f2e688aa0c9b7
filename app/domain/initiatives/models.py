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


class Vote(StrEnum):
    for_ = "for"
    against = "against"
    abstain = "abstain"


class Ballot(StrEnum):
    """A present member's part in a decision: a vote, or recused for a conflict of interest."""

    for_ = "for"
    against = "against"
    abstain = "abstain"
    recused = "recused"


class ConflictOfInterest(StrEnum):
    """Why a present member does not vote on an initiative."""

    initiator = "initiator"  # the member's account proposed it, or the member is its initiator
    declared = "declared"  # the member declared a link at the meeting (family, board, supplier, ...)


class LedgerKind(StrEnum):
    budget = "budget"  # the budget set or changed (signed)
    grant = "grant"  # money granted to an initiative (negative)
    returned = "returned"  # unspent granted money back after the closing report (positive)


def _version() -> Any:
    return Field(default=1, sa_column_kwargs={"server_default": "1", "nullable": False})


class ResidentNetwork(SQLModel, table=True):
    """A wijknetwerk: residents and partners who decide where the initiative budget of their area goes."""

    __tablename__ = "resident_networks"
    __table_args__ = (
        sa.UniqueConstraint("municipality_id", "name", name="uq_resident_networks_name"),
        sa.CheckConstraint("quorum_members BETWEEN 1 AND 200", name="quorum_members"),
        sa.CheckConstraint("resident_share_percent BETWEEN 50 AND 100", name="resident_share_percent"),
    )

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id", index=True)
    name: str = Field(max_length=120)
    # The decision rules: a meeting decides with at least ``quorum_members`` present, of whom at least
    # ``resident_share_percent`` are residents (never below half: the network is the residents').
    quorum_members: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    resident_share_percent: int = Field(default=50, sa_column_kwargs={"server_default": "50"})
    anonymous_voting: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
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

    The totals are kept under a row lock, each change with its entry in ``year_plan_ledger`` (append
    only): ``granted_cents`` is every grant (gross), ``spent_cents`` what closing reports say was spent,
    ``returned_cents`` the unspent granted money back. Available = budget - granted + returned, which is
    also the sum of the ledger's amounts; the CHECKs are the backstop.
    """

    __tablename__ = "year_plans"
    __table_args__ = (
        sa.UniqueConstraint("network_id", "year", name="uq_year_plans_network_year"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        sa.CheckConstraint("budget_cents >= 0", name="budget_not_negative"),
        sa.CheckConstraint(
            "granted_cents >= 0 AND granted_cents - returned_cents <= budget_cents",
            name="granted_within_budget",
        ),
        sa.CheckConstraint(
            "spent_cents >= 0 AND returned_cents >= 0 AND spent_cents + returned_cents <= granted_cents",
            name="reported_within_granted",
        ),
    )

    id: uuid.UUID = uuid_pk()
    network_id: uuid.UUID = Field(foreign_key="resident_networks.id", index=True, ondelete="CASCADE")
    year: int
    priorities: list[str] = string_array()
    summary: str | None = Field(default=None, max_length=4000)
    budget_cents: int = Field(sa_type=sa.BigInteger)
    granted_cents: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    spent_cents: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    returned_cents: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
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
    """A network's decision on an initiative's request: granted (an amount) or rejected, with a reason.

    Since the meetings (migration 0165) a decision is taken in a meeting: ``meeting_id`` and the tally
    are set; grants decided before have neither. Who voted what is in ``grant_ballots``.
    """

    __tablename__ = "initiative_grants"
    __table_args__ = (
        one_of("decision", GrantDecision),
        sa.CheckConstraint(
            "(decision = 'granted' AND amount_cents > 0) OR (decision = 'rejected' AND amount_cents = 0)",
            name="amount_matches_decision",
        ),
        sa.CheckConstraint(
            "meeting_id IS NULL OR (votes_for >= 0 AND votes_against >= 0 AND votes_abstain >= 0)",
            name="tally_of_meeting",
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
    meeting_id: uuid.UUID | None = Field(default=None, foreign_key="network_meetings.id", index=True)
    votes_for: int | None = None
    votes_against: int | None = None
    votes_abstain: int | None = None
    public_summary: str | None = Field(default=None, max_length=280)


class NetworkMeeting(SQLModel, table=True):
    """A meeting of a network, with who was present: where grants are decided."""

    __tablename__ = "network_meetings"
    __table_args__ = (
        sa.CheckConstraint("resident_count >= 0 AND resident_count <= present_count", name="counts"),
        sa.Index("ix_network_meetings_network_held", "network_id", "held_on"),
    )

    id: uuid.UUID = uuid_pk()
    network_id: uuid.UUID = Field(foreign_key="resident_networks.id", ondelete="CASCADE")
    held_on: date
    present_count: int
    resident_count: int
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = timestamp_now()
    version: int = _version()  # a correction names it; none after a grant was decided in the meeting


class MeetingAttendance(SQLModel, table=True):
    """A member present at a meeting, as they were then (name and resident status kept: a member who
    leaves the network later stays on the record of the meetings they attended)."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "member_id", name="uq_meeting_attendance_member"),)

    id: uuid.UUID = uuid_pk()
    meeting_id: uuid.UUID = Field(foreign_key="network_meetings.id", index=True, ondelete="CASCADE")
    member_id: uuid.UUID | None = Field(default=None, foreign_key="network_members.id", ondelete="SET NULL")
    display_name: str = Field(max_length=120)
    is_resident: bool


class GrantBallot(SQLModel, table=True):
    """One present member's vote on a decision, or their recusal with the conflict of interest.

    With anonymous voting only the recusals are rows; the votes are the grant's tally.
    """

    __tablename__ = "grant_ballots"
    __table_args__ = (
        one_of("ballot", Ballot),
        sa.CheckConstraint("(ballot = 'recused') = (conflict IS NOT NULL)", name="recusal_has_conflict"),
    )

    grant_id: uuid.UUID = Field(foreign_key="initiative_grants.id", primary_key=True, ondelete="CASCADE")
    attendance_id: uuid.UUID = Field(
        foreign_key="meeting_attendance.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    ballot: str = Field(max_length=8)
    conflict: str | None = Field(default=None, max_length=10)


class YearPlanLedgerEntry(SQLModel, table=True):
    """One movement of a year plan's available budget. Append-only: a trigger refuses UPDATE, so a
    correction is a new entry. ``balance_after_cents`` is the available budget after this entry."""

    __tablename__ = "year_plan_ledger"
    __table_args__ = (
        one_of("kind", LedgerKind),
        sa.CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        sa.CheckConstraint("balance_after_cents >= 0", name="balance_not_negative"),
        sa.Index("ix_year_plan_ledger_plan_position", "year_plan_id", "position"),
    )

    id: uuid.UUID = uuid_pk()
    position: int = Field(sa_column=sa.Column(sa.BigInteger, sa.Identity(), nullable=False, unique=True))
    year_plan_id: uuid.UUID = Field(foreign_key="year_plans.id", ondelete="CASCADE")
    kind: str = Field(max_length=10)
    amount_cents: int = Field(sa_type=sa.BigInteger)
    balance_after_cents: int = Field(sa_type=sa.BigInteger)
    # CASCADE, not SET NULL: the trigger refuses every UPDATE; an initiative goes only with its network.
    initiative_id: uuid.UUID | None = Field(default=None, foreign_key="initiatives.id", ondelete="CASCADE")
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = timestamp_now()
