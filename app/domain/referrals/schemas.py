"""Referral request and response models. Partners get ``PartnerReferralRead`` (only what the referral
carries); team members get ``ReferralRead`` (with the links into the case file)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.domain.consents.models import DataCategory
from app.domain.households.models import MemberRole
from app.domain.households.schemas import Addition, BirthDate, BuurtCode, Postcode
from app.domain.inputs import WholeNumber
from app.domain.referrals.models import Direction, LegalBasis, ReferralStatus, Side, Urgency
from app.domain.text import MultiLine, SingleLine

Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()-]{6,20}$")]
Line = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1)]
Text = Annotated[MultiLine, StringConstraints(strip_whitespace=True, min_length=1)]


class PersonIn(BaseModel):
    """Minimal personal data: a given name, plus what is needed to find the person."""

    model_config = ConfigDict(extra="forbid")

    given_name: Line = Field(max_length=80, examples=["Sanne"])
    family_name: Line | None = Field(default=None, max_length=120)
    birth_date: BirthDate | None = None
    postcode: Postcode | None = None
    house_number: Annotated[int, Field(ge=1, le=99999), WholeNumber] | None = None
    house_number_addition: Addition | None = None
    phone: Phone | None = None


class InboundReferralCreate(BaseModel):
    """A partner refers a person or household to the team (address or buurt code routes it)."""

    model_config = ConfigDict(extra="forbid")

    person: PersonIn
    buurt_code: BuurtCode | None = Field(
        default=None, description="Routes the referral (else the postcode does)."
    )
    reason_domain: SingleLine = Field(
        min_length=1, max_length=40, description="Life-domain code.", examples=["finances"]
    )
    urgency: Urgency = Urgency.routine
    description: Text | None = Field(default=None, max_length=2000)
    legal_basis: LegalBasis
    legal_basis_note: Text | None = Field(
        default=None,
        max_length=200,
        description="Required unless the basis is consent, e.g. the legal duty relied on.",
        examples=["Wgs art. 12: vroegsignalering betalingsachterstand"],
    )


class OutboundReferralCreate(BaseModel):
    """A worker refers a household member to a partner organisation, from the household's plan."""

    model_config = ConfigDict(extra="forbid")

    member_id: uuid.UUID
    organisation_id: uuid.UUID
    reason_domain: SingleLine = Field(min_length=1, max_length=40, examples=["finances"])
    urgency: Urgency = Urgency.routine
    description: Text | None = Field(default=None, max_length=2000)
    legal_basis: LegalBasis
    legal_basis_note: Text | None = Field(default=None, max_length=200)
    consent_id: uuid.UUID | None = Field(
        default=None, description="With basis consent: which consent (default: the newest that covers it)."
    )
    share: list[DataCategory] | None = Field(
        default=None,
        description="Personal data to pass on beyond a given name. With a consent: at most what it "
        "covers (default: all it covers); otherwise default none.",
    )
    phone: Phone | None = Field(default=None, description="Only with the contact category shared.")
    service_id: uuid.UUID | None = Field(
        default=None,
        description="The active service of the receiving organisation (sociale kaart) that is asked for; "
        "the partner sees it on the referral.",
    )
    plan_action_id: uuid.UUID | None = Field(
        default=None,
        description="The partner action of the household's active plan this referral carries out; "
        "it links to the referral, so the coordinator sees its status.",
    )


class NewHousehold(BaseModel):
    """Create a household when accepting an inbound referral (the address may come from the referral)."""

    model_config = ConfigDict(extra="forbid")

    postcode: Postcode | None = None
    house_number: Annotated[int, Field(ge=1, le=99999), WholeNumber] | None = None
    house_number_addition: Addition | None = None
    role: MemberRole | None = Field(default=None, description="The person's role (default from the age).")


class TransitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ReferralStatus = Field(description="The status to move to.")
    reason: Text | None = Field(
        default=None, max_length=500, description="Required for declined and cancelled."
    )
    outcome: Text | None = Field(
        default=None, max_length=2000, description="Required for completed; goes back to the sender."
    )
    household_id: uuid.UUID | None = Field(
        default=None, description="Accepting an inbound referral: link it to this household."
    )
    member_id: uuid.UUID | None = Field(default=None, description="With household_id: the member concerned.")
    new_household: NewHousehold | None = Field(
        default=None, description="Accepting an inbound referral: create the household."
    )


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Text = Field(max_length=1000)


class MessageRead(BaseModel):
    id: uuid.UUID
    side: Side
    body: str
    created_at: datetime


class TransitionRead(BaseModel):
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    side: Side
    occurred_at: datetime


class PersonRead(BaseModel):
    given_name: str
    family_name: str | None
    birth_date: date | None
    postcode: str | None
    house_number: int | None
    house_number_addition: str | None
    phone: str | None


class PartnerReferralRead(BaseModel):
    """What a partner sees: the referral's own data, never the household file."""

    id: uuid.UUID
    direction: Direction
    status: ReferralStatus
    person: PersonRead
    buurt_code: str | None
    shared_categories: list[DataCategory]
    reason_domain: str
    service_id: uuid.UUID | None = Field(
        description="Outbound: which service of the receiving organisation was asked for (null: none named)."
    )
    urgency: Urgency
    description: str | None
    legal_basis: LegalBasis
    legal_basis_note: str | None
    status_reason: str | None
    outcome: str | None
    created_at: datetime
    updated_at: datetime
    transitions: list[TransitionRead]


class ReferralRead(PartnerReferralRead):
    """What the team sees: also the links into the case file."""

    organisation_id: uuid.UUID
    team_id: uuid.UUID
    household_id: uuid.UUID | None
    member_id: uuid.UUID | None
    consent_id: uuid.UUID | None
    requested_by_worker_id: uuid.UUID | None
    handled_by_worker_id: uuid.UUID | None
