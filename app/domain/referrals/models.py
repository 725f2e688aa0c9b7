"""Referral tables: the referral, its timestamped transitions and its messages (postcode routing is
the areas context's)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, string_array, timestamp_now, uuid_pk


class Direction(StrEnum):
    inbound = "inbound"  # partner -> team
    outbound = "outbound"  # team -> partner


class ReferralStatus(StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    declined = "declined"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class Urgency(StrEnum):
    """FHIR request priority."""

    routine = "routine"
    urgent = "urgent"
    asap = "asap"
    stat = "stat"


class LegalBasis(StrEnum):
    consent = "consent"
    legal_duty = "legal_duty"  # e.g. early debt signalling (vroegsignalering, Wgs)
    vital_interest = "vital_interest"


class Side(StrEnum):
    team = "team"
    partner = "partner"


class Referral(SQLModel, table=True):
    """One referral. ``organisation_id`` is the partner: the sender (inbound) or recipient (outbound).

    The person fields hold only what the referral carries to or from the partner (data minimisation):
    a partner reads these and never the household file.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        one_of("direction", Direction),
        one_of("status", ReferralStatus),
        one_of("urgency", Urgency),
        one_of("legal_basis", LegalBasis),
        sa.CheckConstraint(
            "direction = 'inbound' OR household_id IS NOT NULL", name="outbound_has_household"
        ),
        sa.CheckConstraint(
            "status NOT IN ('declined', 'cancelled') OR status_reason IS NOT NULL", name="reason_present"
        ),
        sa.CheckConstraint("status <> 'completed' OR outcome IS NOT NULL", name="outcome_present"),
        sa.UniqueConstraint("idempotency_scope", "idempotency_key", name="uq_referrals_idempotency"),
        sa.Index("ix_referrals_organisation_id_created_at", "organisation_id", "created_at"),
        sa.Index("ix_referrals_team_id_created_at", "team_id", "created_at"),
        # The worklist's inbound referrals waiting for a decision, per team (a few of the team's).
        sa.Index(
            "ix_referrals_inbound_waiting",
            "team_id",
            postgresql_where=sa.text(
                "direction = 'inbound' AND status = 'submitted' AND household_id IS NULL"
            ),
        ),
    )

    id: uuid.UUID = uuid_pk()
    direction: str = Field(max_length=8)
    status: str = Field(default=ReferralStatus.submitted, max_length=12)
    organisation_id: uuid.UUID = Field(foreign_key="partner_organisations.id")
    team_id: uuid.UUID = Field(foreign_key="teams.id")
    buurt_id: uuid.UUID | None = Field(default=None, foreign_key="areas.id")
    household_id: uuid.UUID | None = Field(default=None, foreign_key="households.id", index=True)
    member_id: uuid.UUID | None = Field(default=None, foreign_key="members.id", ondelete="SET NULL")
    # What the referral carries about the person.
    given_name: str = Field(max_length=80)
    family_name: str | None = Field(default=None, max_length=120)
    birth_date: date | None = None
    postcode: str | None = Field(default=None, max_length=6)
    house_number: int | None = None
    house_number_addition: str | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=20)
    shared_categories: list[str] = string_array()
    # Why, how urgent, on what basis.
    reason_domain: str = Field(foreign_key="life_domains.code", max_length=40)
    urgency: str = Field(default=Urgency.routine, max_length=8)
    description: str | None = Field(default=None, max_length=2000)
    legal_basis: str = Field(max_length=16)
    legal_basis_note: str | None = Field(default=None, max_length=200)
    consent_id: uuid.UUID | None = Field(default=None, foreign_key="consents.id", index=True)
    # Outbound: the service of the receiving organisation that was asked for (sociale kaart).
    service_id: uuid.UUID | None = Field(
        default=None, foreign_key="directory_services.id", ondelete="SET NULL", index=True
    )
    # Lifecycle.
    status_reason: str | None = Field(default=None, max_length=500)
    outcome: str | None = Field(default=None, max_length=2000)
    requested_by_worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    handled_by_worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    # Idempotency-Key of the creating POST, per caller: concurrent duplicates make one referral.
    idempotency_scope: str | None = Field(default=None, max_length=255)
    idempotency_key: str | None = Field(default=None, max_length=255)
    request_hash: str | None = Field(default=None, max_length=64)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()


class ReferralTransition(SQLModel, table=True):
    """Every status change, timestamped (time to first response is derived from these)."""

    __tablename__ = "referral_transitions"
    __table_args__ = (
        one_of("side", Side),
        sa.Index("ix_referral_transitions_referral_id_occurred_at", "referral_id", "occurred_at"),
    )

    id: uuid.UUID = uuid_pk()
    referral_id: uuid.UUID = Field(foreign_key="referrals.id", ondelete="CASCADE")
    from_status: str | None = Field(default=None, max_length=12)  # null for the submission
    to_status: str = Field(max_length=12)
    side: str = Field(max_length=8)
    actor_subject: str = Field(max_length=255)
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    organisation_id: uuid.UUID | None = None
    occurred_at: datetime = timestamp_now()


class ReferralMessage(SQLModel, table=True):
    """A short message between the two sides of a referral."""

    __tablename__ = "referral_messages"
    __table_args__ = (
        one_of("side", Side),
        sa.Index("ix_referral_messages_referral_id_created_at", "referral_id", "created_at"),
    )

    id: uuid.UUID = uuid_pk()
    referral_id: uuid.UUID = Field(foreign_key="referrals.id", ondelete="CASCADE")
    side: str = Field(max_length=8)
    author_subject: str = Field(max_length=255)
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    organisation_id: uuid.UUID | None = None
    body: str = Field(max_length=1000)
    created_at: datetime = timestamp_now()
