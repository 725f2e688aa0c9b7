"""Policy-signal request and response models. Every free-text field is also checked for personal
data (``personal_data``) by the service, on every write."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.domain.signals.models import SignalAnswer, SignalStatus
from app.domain.stats.disclosure import Suppression
from app.domain.text import MultiLine, SingleLine

Line = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1)]
Text = Annotated[MultiLine, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[SingleLine, StringConstraints(min_length=1, max_length=40)]
WijkCode = Annotated[str, StringConstraints(pattern=r"^WK\d{6}$")]

# The free-text fields of a signal, each checked for personal data on every write.
SIGNAL_TEXTS = ("title", "situation", "rule_reference", "rule_quote", "solution")


class SignalFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line = Field(max_length=160, examples=["PGB may not pay a daughter without a job for care"])
    situation: Text = Field(
        max_length=4000,
        description="The situation, without personal data (no names, numbers or addresses).",
        examples=["A mother needs daily care; her unemployed daughter could give it, paid from the PGB."],
    )
    rule_reference: Line = Field(
        max_length=300,
        description="The rule or policy that blocks.",
        examples=["Beleidsregels Wmo, art. 4.2"],
    )
    rule_quote: Text | None = Field(default=None, max_length=1000, description="A short quote of it.")
    solution: Text = Field(max_length=2000, description="The solution that would work.")
    themes: list[Code] = Field(min_length=1, max_length=10, description="Theme codes.", examples=[["debts"]])
    life_domains: list[Code] = Field(
        default_factory=list, max_length=12, description="Life-domain codes.", examples=[["finances"]]
    )
    area_code: WijkCode | None = Field(
        default=None, description="The wijk it plays in; none for the whole gemeente.", examples=["WK036301"]
    )
    household_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="Households of your caseload this signal stands for: only your team sees which.",
    )


class SignalCreate(SignalFields):
    """A worker writes a draft signal for their team."""

    team_id: uuid.UUID | None = Field(
        default=None, description="Your team; needed only when you work in several teams."
    )


class SignalUpdate(BaseModel):
    """Changes to a draft (If-Match required); the fields given replace the stored ones."""

    model_config = ConfigDict(extra="forbid")

    title: Line | None = Field(default=None, max_length=160)
    situation: Text | None = Field(default=None, max_length=4000)
    rule_reference: Line | None = Field(default=None, max_length=300)
    rule_quote: Text | None = Field(default=None, max_length=1000)
    solution: Text | None = Field(default=None, max_length=2000)
    themes: list[Code] | None = Field(default=None, min_length=1, max_length=10)
    life_domains: list[Code] | None = Field(default=None, max_length=12)
    area_code: WijkCode | None = None
    household_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)


class SignalSubmit(BaseModel):
    """A team lead brings the draft to the team leads' meeting (If-Match required)."""

    model_config = ConfigDict(extra="forbid")

    bundle: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=20,
        description="Submitted signals of other teams about the same rule, bundled into this one: "
        "they follow it from now on, and its answer is theirs.",
    )


class SignalDecision(BaseModel):
    """A policy officer takes a signal, answers it or closes it (If-Match required)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal[SignalStatus.in_consideration, SignalStatus.answered, SignalStatus.closed]
    answer: SignalAnswer | None = Field(default=None, description="Required for answered.")
    reasoning: Text | None = Field(default=None, max_length=4000, description="Required for answered.")
    outcome: Text | None = Field(
        default=None, max_length=2000, description="Required for closed: what changed."
    )
    outcome_from: date | None = Field(default=None, description="Required for closed: from when.")


class SignalTransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: SignalStatus | None
    to_status: SignalStatus
    bundled_into_id: uuid.UUID | None = Field(description="Set when this step bundled the signal.")
    actor_role: str
    worker_id: uuid.UUID | None
    occurred_at: datetime


class LinkedHouseholds(BaseModel):
    """The households a signal stands for. The raising team gets the exact count of the households
    linked to this signal itself (all of its own team) and which of them the reader may open; everyone
    else, and any figure that includes another team's households, a count after disclosure control."""

    count: int | None = Field(description="Null when withheld; rounded for everyone but the team.")
    suppressed: Suppression | None = Field(default=None, description="Why the count is withheld.")
    household_ids: list[uuid.UUID] | None = Field(
        default=None,
        description="Only for the raising team: the linked households the reader may open.",
    )


class SignalRead(BaseModel):
    id: uuid.UUID
    status: SignalStatus
    team_id: uuid.UUID
    team_name: str
    municipality_code: str
    area_code: str | None
    title: str
    situation: str
    rule_reference: str
    rule_quote: str | None
    solution: str
    themes: list[str]
    life_domains: list[str]
    bundled_into_id: uuid.UUID | None
    bundled_signal_ids: list[uuid.UUID]
    answer: SignalAnswer | None
    answer_reasoning: str | None
    outcome: str | None
    outcome_from: date | None
    submitted_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    linked_households: LinkedHouseholds = Field(description="The households linked to this signal itself.")
    bundle_households: LinkedHouseholds | None = Field(
        description="Only on a signal other signals are bundled into: the distinct households behind the "
        "whole bundle, after disclosure control for every reader (it counts other teams' households)."
    )
    transitions: list[SignalTransitionRead]
    version: int
    created_at: datetime
    updated_at: datetime
