"""The household overview: one phone screen of the case file in one request (no BSN, ever)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from app.domain.assessments.rules import Tier
from app.domain.households.models import ContactKind, HouseholdStatus, MemberRole, RecordedBy
from app.domain.plans.models import PerformerKind, PlanStatus
from app.domain.referrals.models import ReferralStatus
from app.domain.support_network.schemas import NetworkSummary


class OverviewHousehold(BaseModel):
    id: uuid.UUID
    reference: str
    status: HouseholdStatus
    confidential: bool
    team_id: uuid.UUID
    buurt_code: str
    buurt_name: str
    postcode: str
    house_number: int
    house_number_addition: str | None
    coordinator_id: uuid.UUID | None
    coordinator_name: str | None
    registered_at: datetime
    closed_at: datetime | None
    closing_reason: str | None
    version: int


class OverviewMember(BaseModel):
    id: uuid.UUID
    given_name: str
    family_name: str | None
    birth_date: date | None
    role: MemberRole
    has_bsn: bool = Field(description="Whether a BSN is on file (the number itself is never shown here).")


class OverviewScore(BaseModel):
    domain: str
    member_id: uuid.UUID | None
    score: int
    assessed_on: date


class OverviewGoal(BaseModel):
    id: uuid.UUID
    domain: str
    target_score: int
    description: str | None


class OverviewReferral(BaseModel):
    """Where a referred action stands at the partner (closed loop)."""

    status: ReferralStatus
    organisation_id: uuid.UUID
    updated_at: datetime


class OverviewAction(BaseModel):
    id: uuid.UUID
    goal_id: uuid.UUID | None
    description: str
    performer_kind: PerformerKind
    network_person_id: uuid.UUID | None
    worker_id: uuid.UUID | None
    referral_id: uuid.UUID | None
    due_date: date | None
    referral: OverviewReferral | None = Field(
        default=None, description="The referral carrying out a partner action: the team keeps the lead."
    )


class OverviewPlan(BaseModel):
    id: uuid.UUID
    revision: int
    status: PlanStatus
    evaluation_date: date | None
    agreed_at: datetime | None
    agreed_by_member_id: uuid.UUID | None
    agreement_recorded_by: RecordedBy | None = Field(
        description="team: the team noted the agreement; member: the member gave it in self-service."
    )
    version: int
    goals: list[OverviewGoal]
    open_actions: list[OverviewAction] = Field(description="Actions not done yet, soonest due first.")


class OverviewContact(BaseModel):
    id: uuid.UUID
    kind: ContactKind
    occurred_at: datetime
    minutes: int
    worker_id: uuid.UUID | None
    note: str | None


class HouseholdOverview(BaseModel):
    tier: Tier | None = Field(description="The 80-20-5 tier derived from the latest scores; null before any.")
    household: OverviewHousehold
    members: list[OverviewMember]
    latest_scores: list[OverviewScore] = Field(
        description="The latest score per (member or household, domain)."
    )
    plan: OverviewPlan | None = Field(description="The active plan; null when there is none.")
    recent_contacts: list[OverviewContact] = Field(description="The last 5 contact moments, newest first.")
    themes: list[str]
    network: NetworkSummary
