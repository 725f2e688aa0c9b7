"""What a household member is shown, and what their coordinator manages.

A member's answers carry their own data and what the household's plan says, never another adult
member's personal data, internal notes or a BSN (``has_bsn`` at most).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.consents.models import DataCategory
from app.domain.households.models import HouseholdStatus, MemberRole, RecordedBy
from app.domain.plans.models import GoalResult, PerformerKind
from app.domain.text import MultiLine
from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome

# -- the member's own file -----------------------------------------------------------------------


class OwnMember(BaseModel):
    id: uuid.UUID
    given_name: str
    family_name: str | None
    birth_date: date | None
    role: MemberRole
    has_bsn: bool = Field(description="Whether the team recorded your BSN (the number is never shown).")


class Child(BaseModel):
    given_name: str


class OwnHousehold(BaseModel):
    id: uuid.UUID
    reference: str = Field(description="Quote it when you contact the team.")
    status: HouseholdStatus
    postcode: str
    house_number: int
    house_number_addition: str | None
    team: str = Field(description="The wijkteam that supports the household.")
    coordinator: str | None = Field(description="Your coordinator (regisseur), when one is named.")
    municipality: str


class MeRead(BaseModel):
    """Your own member data and your household, as the team holds them."""

    member: OwnMember
    household: OwnHousehold
    children: list[Child] = Field(description="The household's children (shown to adult members only).")


class Domain(BaseModel):
    code: str
    label_nl: str
    label_en: str


class GoalView(BaseModel):
    id: uuid.UUID
    domain: Domain
    target_score: int = Field(description="Where the household wants to be on the 1-5 scale.")
    description: str | None


class Performer(BaseModel):
    kind: PerformerKind = Field(
        description="household (you and your household), network_member (someone of your network), "
        "volunteer, worker (of the team) or partner (an organisation, through a referral)."
    )
    name: str | None = Field(
        description="As the plan names them: the network person's first name or role, the worker's "
        "name, the partner organisation's name; null for the household and volunteers."
    )


class ActionView(BaseModel):
    id: uuid.UUID
    goal_id: uuid.UUID | None
    description: str
    performer: Performer
    due_date: date | None
    done: bool


class Agreement(BaseModel):
    agreed_at: datetime
    by_you: bool = Field(description="You agreed (rather than another member of your household).")
    recorded_by: RecordedBy = Field(description="team: the team noted it; member: given in self-service.")


class GoalResultView(BaseModel):
    goal_id: uuid.UUID
    result: GoalResult = Field(description="reached, partly, not_reached or dropped.")


class EvaluationView(BaseModel):
    """An evaluation of the plan with your household: how far each goal got, your household's view as
    the team recorded it, and your own view when you added one."""

    id: uuid.UUID
    evaluated_on: date
    household_view: str | None = Field(description="Your household's view, as the team recorded it.")
    goals: list[GoalResultView]
    your_view: str | None = Field(description="The view you added yourself; null until you add one.")


class YourViewCreate(BaseModel):
    """Your own view on an evaluation, in your words (once per evaluation)."""

    model_config = ConfigDict(extra="forbid")

    view: MultiLine = Field(min_length=1, max_length=1000, examples=["Het gaat beter met de post."])


class PlanView(BaseModel):
    """The household's active plan: goals, actions, who does what, and when it is evaluated."""

    id: uuid.UUID
    revision: int
    version: int = Field(description="With the id, the ETag to send as If-Match when you agree.")
    summary: str | None
    evaluation_date: date | None
    agreement: Agreement | None
    goals: list[GoalView]
    actions: list[ActionView]
    evaluations: list[EvaluationView] = Field(description="Newest first.")
    updated_at: datetime


class ConsentView(BaseModel):
    """A consent you gave: which organisation may receive which of your data, for what."""

    id: uuid.UUID
    organisation: str
    purpose: Domain
    categories: list[DataCategory]
    valid_from: date
    valid_until: date | None
    in_force: bool
    withdrawn_at: datetime | None
    withdrawal_recorded_by: RecordedBy | None
    created_at: datetime


class AccessView(BaseModel):
    """One access to your data or your household's file, in plain words."""

    id: uuid.UUID = Field(description="The entry's id: quote it when you ask the privacy officer about it.")
    occurred_at: datetime
    who: str = Field(description="The worker's name (when the municipality shows names) or their role.")
    role: str
    organisation: str | None
    action: AccessAction
    change: bool = Field(description="Whether data was added, changed or removed (else it was read).")
    what: str
    purpose: str
    outcome: AccessOutcome = Field(description="allowed; denied (refused, nothing shown); failed.")
    break_glass: bool = Field(description="Emergency access to a protected file, with a stated reason.")
    reason: str | None
    summary: str


class OwnExport(BaseModel):
    """Everything held on you (the privacy officer's export), plus who accessed it."""

    generated_at: datetime
    member_ids: list[uuid.UUID]
    household_ids: list[uuid.UUID]
    sections: dict[str, Any]
    access_log: list[AccessView]


# -- the coordinator's side -----------------------------------------------------------------------


class SelfServiceSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(
        description="true: on; false: off (the member's sign-ins stop at once); null: back to the "
        "default (households: on unless confidential; members: on for adults, off for children)."
    )


class Account(BaseModel):
    username: str
    activated: bool = Field(description="A password is set (the built-in sign-in).")
    active: bool


class MemberSelfService(BaseModel):
    member_id: uuid.UUID
    given_name: str
    role: MemberRole
    choice: bool | None = Field(description="The coordinator's choice for this member (null: default).")
    enabled: bool = Field(description="Whether this member can use self-service now.")
    account: Account | None
    activation_code_expires_at: datetime | None = Field(
        description="When the member's unused activation code expires (null: none pending)."
    )


class HouseholdSelfService(BaseModel):
    household_id: uuid.UUID
    confidential: bool
    choice: bool | None = Field(description="The coordinator's choice for the household (null: default).")
    enabled: bool
    members: list[MemberSelfService]


class ActivationCodeIssued(BaseModel):
    """Shown once: hand the code to the member (on paper or read aloud), never by e-mail with the
    username. Only a keyed hash is stored."""

    member_id: uuid.UUID
    username: str
    code: str = Field(examples=["7KQ2-M9XD-4RTA"])
    expires_at: datetime
    activate_at: str = Field(
        description="Where the member sets their password.", examples=["/oauth/activate"]
    )
