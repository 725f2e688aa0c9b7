"""Inputs (pydantic, ``extra="forbid"``, server-owned fields never writable) and read views.

Views are plain dataclasses built from SQL rows by the repository: REST and GraphQL shape them into
their own responses. Private parts (contacts, reports, grant reasons) are None unless the caller is a
member of the network; the repository computes them that way in SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.domain.initiatives.models import GrantDecision, InitiativeStatus, NetworkRole, Vote
from app.domain.inputs import Flag, IsoDate, WholeNumber
from app.domain.text import Email, MultiLine, SingleLine

MAX_CENTS = 1_000_000_000  # EUR 10 million: far above any neighbourhood budget, inside a GraphQL Int

BuurtCode = Annotated[str, StringConstraints(pattern=r"^BU\d{8}$")]
ThemeCode = Annotated[SingleLine, StringConstraints(min_length=1, max_length=40)]
Name = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,20}$")]
Title = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
Text2000 = Annotated[MultiLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Text4000 = Annotated[MultiLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Cents = Annotated[int, Field(ge=1, le=MAX_CENTS), WholeNumber]
Year = Annotated[int, Field(ge=2000, le=2100), WholeNumber]
Themes = Annotated[list[ThemeCode], Field(max_length=10)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactIn(_Input):
    name: Name
    email: Email | None = None
    phone: Phone | None = None


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ValueError("ends_on must not be before starts_on")


class InitiativeCreate(_Input):
    network_id: uuid.UUID
    buurt: BuurtCode
    title: Title
    summary: Text2000
    themes: Themes = Field(default_factory=list)
    initiator: ContactIn
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        _check_dates(self.starts_on, self.ends_on)
        return self


class InitiativeUpdate(_Input):
    """Only the fields sent change; status, amounts and the network are changed by their own actions."""

    buurt: BuurtCode | None = None
    title: Title | None = None
    summary: Text2000 | None = None
    themes: Themes | None = None
    initiator: ContactIn | None = None
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None


class GrantRequest(_Input):
    amount_cents: Cents
    year: Year


PublicSummary = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=280)]
Count = Annotated[int, Field(ge=0, le=200), WholeNumber]
MemberIds = Annotated[list[uuid.UUID], Field(max_length=200)]


class MeetingCreate(_Input):
    """A meeting of the network: its date and the members present (ids of the network's members)."""

    held_on: IsoDate
    present_member_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=200)]


class MeetingCorrection(_Input):
    """A correction of a meeting that has decided nothing yet: only the fields sent change."""

    held_on: IsoDate | None = None
    present_member_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        # An empty correction would raise the version (refusing other coordinators' pending
        # corrections) and empty every cached dashboard answer for nothing.
        if self.held_on is None and self.present_member_ids is None:
            raise ValueError("send held_on or present_member_ids: a correction changes something")
        return self


class VoteIn(_Input):
    member_id: uuid.UUID
    vote: Vote


class TallyIn(_Input):
    """The count of an anonymous vote (networks that vote anonymously record only this)."""

    votes_for: Count
    votes_against: Count
    votes_abstain: Count


class GrantDecisionIn(_Input):
    """The decision of a meeting, recorded by a coordinator: the votes of the members present (or the
    tally, where the network votes anonymously) decide; ``decision`` must be what they decided."""

    decision: GrantDecision
    amount_cents: Annotated[int, Field(ge=0, le=MAX_CENTS), WholeNumber] = 0
    reason: Text2000
    meeting_id: uuid.UUID
    votes: Annotated[list[VoteIn], Field(max_length=200)] | None = None
    tally: TallyIn | None = None
    declared_conflicts: MemberIds = Field(
        default_factory=list, description="Present members who declared a link to the initiative."
    )
    public_summary: PublicSummary | None = None

    @model_validator(mode="after")
    def _amount(self) -> Self:
        if (self.votes is None) == (self.tally is None):
            raise ValueError("send either votes (per member present) or tally (anonymous voting)")
        if self.decision is GrantDecision.granted and self.amount_cents <= 0:
            raise ValueError("a grant needs a positive amount_cents")
        if self.decision is GrantDecision.rejected and self.amount_cents != 0:
            raise ValueError("a rejection grants nothing: amount_cents must be 0")
        return self


class InitiativeReportIn(_Input):
    participants_reached: Annotated[int, Field(ge=0, le=1_000_000), WholeNumber]
    report: Text4000
    ends_on: IsoDate | None = None
    spent_cents: Annotated[int, Field(ge=0, le=MAX_CENTS), WholeNumber] | None = (
        None  # of the grant; at most granted
    )


class MemberCreate(_Input):
    display_name: Name
    is_resident: Flag
    role: NetworkRole = NetworkRole.member
    user_id: uuid.UUID | None = None
    email: Email | None = None
    phone: Phone | None = None


class MemberUpdate(_Input):
    display_name: Name | None = None
    is_resident: Flag | None = None
    role: NetworkRole | None = None
    email: Email | None = None
    phone: Phone | None = None


class YearPlanCreate(_Input):
    year: Year
    budget_cents: Annotated[int, Field(ge=0, le=MAX_CENTS), WholeNumber]
    priorities: Themes = Field(default_factory=list)
    summary: Text4000 | None = None


class YearPlanUpdate(_Input):
    budget_cents: Annotated[int, Field(ge=0, le=MAX_CENTS), WholeNumber] | None = None
    priorities: Themes | None = None
    summary: Text4000 | None = None


Buurten = Annotated[list[BuurtCode], Field(min_length=1, max_length=50)]


class NetworkCreate(_Input):
    municipality_id: uuid.UUID
    name: Name
    buurten: Buurten


class NetworkSetup(NetworkCreate):
    """An administrator's new network: its buurten and its first members (a coordinator among them)."""

    members: Annotated[list[MemberCreate], Field(min_length=1, max_length=200)]


class NetworkUpdate(_Input):
    """Rename a network, change its buurten or its decision rules (the municipality is fixed; members
    are the coordinators')."""

    name: Name | None = None
    buurten: Buurten | None = None
    quorum_members: Annotated[int, Field(ge=1, le=200), WholeNumber] | None = None
    resident_share_percent: (
        Annotated[
            int,
            Field(ge=50, le=100, description="Never below 50: residents hold at least half."),
            WholeNumber,
        ]
        | None
    ) = None
    anonymous_voting: Flag | None = None


@dataclass(frozen=True, slots=True)
class InitiativeFilter:
    """Documented filters of the initiative lists (all optional, combined with AND)."""

    neighbourhood: str | None = None  # buurt code
    network_id: uuid.UUID | None = None
    statuses: tuple[InitiativeStatus, ...] = ()
    theme: str | None = None
    municipality: str | None = None  # municipality code (GM + 4 digits)


# -- read views ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactView:
    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class NeighbourhoodView:
    id: uuid.UUID
    code: str
    name: str
    wijk_code: str | None = None
    wijk_name: str | None = None  # public, like the code: the wijk's name as the municipality gives it


@dataclass(frozen=True, slots=True)
class InitiativeView:
    id: uuid.UUID
    network_id: uuid.UUID
    network_name: str
    buurt: NeighbourhoodView
    title: str
    summary: str
    themes: list[str]
    status: str
    requested_cents: int | None
    granted_cents: int | None
    spent_cents: int | None
    starts_on: date | None
    ends_on: date | None
    participants_reached: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    year: int | None  # the year plan the request is made against
    initiator: ContactView | None  # private: members of the network only
    report: str | None  # private: members of the network only


@dataclass(frozen=True, slots=True)
class NetworkView:
    id: uuid.UUID
    name: str
    municipality_id: uuid.UUID
    version: int
    # The decision rules (see ResidentNetwork).
    quorum_members: int = 3
    resident_share_percent: int = 50
    anonymous_voting: bool = False


@dataclass(frozen=True, slots=True)
class MemberView:
    id: uuid.UUID
    network_id: uuid.UUID
    display_name: str
    is_resident: bool
    role: str
    has_account: bool
    contact: ContactView
    version: int


@dataclass(frozen=True, slots=True)
class YearPlanView:
    id: uuid.UUID
    network_id: uuid.UUID
    year: int
    priorities: list[str]
    summary: str | None
    budget_cents: int
    granted_cents: int  # every grant, gross
    version: int
    spent_cents: int = 0  # what closing reports say was spent
    returned_cents: int = 0  # unspent granted money back in the budget

    @property
    def remaining_cents(self) -> int:
        """The old meaning (before returns): the budget minus every grant."""
        return self.budget_cents - self.granted_cents

    @property
    def available_cents(self) -> int:
        """What can still be granted: the budget minus grants plus money returned."""
        return self.budget_cents - self.granted_cents + self.returned_cents


@dataclass(frozen=True, slots=True)
class LedgerEntryView:
    position: int
    year_plan_id: uuid.UUID
    kind: str
    amount_cents: int
    balance_after_cents: int
    initiative_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttendeeView:
    network_id: uuid.UUID
    display_name: str
    is_resident: bool


@dataclass(frozen=True, slots=True)
class MeetingView:
    """Date and counts are public; who was present is for members of the network only."""

    id: uuid.UUID
    network_id: uuid.UUID
    held_on: date
    present_count: int
    resident_count: int
    can_decide: bool  # under the network's rules now
    present: list[AttendeeView] | None  # private: members of the network only
    version: int

    @property
    def resident_share_percent(self) -> int:
        return 100 * self.resident_count // self.present_count if self.present_count else 0


@dataclass(frozen=True, slots=True)
class BallotView:
    grant_id: uuid.UUID
    network_id: uuid.UUID
    display_name: str
    ballot: str
    conflict: str | None


@dataclass(frozen=True, slots=True)
class GrantView:
    id: uuid.UUID
    initiative_id: uuid.UUID
    network_id: uuid.UUID
    year: int
    decision: str
    amount_cents: int
    decided_at: datetime
    reason: str | None  # private: members of the network only
    meeting_id: uuid.UUID | None = None  # None for grants decided before meetings were recorded
    votes_for: int | None = None
    votes_against: int | None = None
    votes_abstain: int | None = None
    public_summary: str | None = None


@dataclass(frozen=True, slots=True)
class ThemeView:
    code: str
    label_nl: str
    label_en: str


# -- REST read model (public fields only) -----------------------------------------------------------


class NeighbourhoodRead(BaseModel):
    code: str = Field(examples=["BU03630001"])
    name: str


class NetworkRef(BaseModel):
    id: uuid.UUID
    name: str


@dataclass(frozen=True, slots=True)
class NetworkSummaryView:
    """A network as administrators see it: its area and how many members, never who they are."""

    network: NetworkView
    buurten: list[NeighbourhoodView]
    members: int
    residents: int


class NetworkAdminRead(BaseModel):
    """A resident network for administrators: no member names or contact details."""

    id: uuid.UUID
    name: str = Field(examples=["Wijknetwerk Noord"])
    municipality_id: uuid.UUID
    buurten: list[NeighbourhoodRead]
    member_count: int = Field(description="All members of the network.")
    resident_count: int = Field(description="Members who are residents (at least half of them).")
    quorum_members: int = Field(description="A meeting decides with at least this many members present.")
    resident_share_percent: int = Field(
        description="A meeting decides when at least this share (50-100) of those present are residents."
    )
    anonymous_voting: bool = Field(
        description="Meetings record only the tally of a vote, not who voted what."
    )
    version: int

    @classmethod
    def of(cls, view: NetworkSummaryView) -> NetworkAdminRead:
        return cls(
            id=view.network.id,
            name=view.network.name,
            municipality_id=view.network.municipality_id,
            buurten=[NeighbourhoodRead(code=b.code, name=b.name) for b in view.buurten],
            member_count=view.members,
            resident_count=view.residents,
            quorum_members=view.network.quorum_members,
            resident_share_percent=view.network.resident_share_percent,
            anonymous_voting=view.network.anonymous_voting,
            version=view.network.version,
        )


class InitiativePublic(BaseModel):
    """The public face of an initiative, as the municipality's website shows it."""

    id: uuid.UUID
    title: str = Field(examples=["Financieel café in de bibliotheek"])
    summary: str
    themes: list[str] = Field(examples=[["debts", "loneliness"]])
    status: InitiativeStatus
    neighbourhood: NeighbourhoodRead
    network: NetworkRef
    requested_cents: int | None = Field(description="Requested amount in euro cents.")
    granted_cents: int | None = Field(description="Granted amount in euro cents.")
    spent_cents: int | None = Field(
        description="Amount spent in euro cents, from the closing report (at most the granted amount)."
    )
    starts_on: date | None
    ends_on: date | None
    participants_reached: int | None

    @classmethod
    def of(cls, view: InitiativeView) -> InitiativePublic:
        return cls(
            id=view.id,
            title=view.title,
            summary=view.summary,
            themes=view.themes,
            status=InitiativeStatus(view.status),
            neighbourhood=NeighbourhoodRead(code=view.buurt.code, name=view.buurt.name),
            network=NetworkRef(id=view.network_id, name=view.network_name),
            requested_cents=view.requested_cents,
            granted_cents=view.granted_cents,
            spent_cents=view.spent_cents,
            starts_on=view.starts_on,
            ends_on=view.ends_on,
            participants_reached=view.participants_reached,
        )


class LedgerEntryRead(BaseModel):
    position: int
    kind: str = Field(description="budget, grant or returned.")
    amount_cents: int = Field(description="Signed: grants negative, budget changes and returns as they are.")
    balance_after_cents: int = Field(description="The available budget after this entry.")
    initiative_id: uuid.UUID | None
    created_at: datetime


class YearPlanMoneyRead(BaseModel):
    """A year plan's money: the totals and the append-only ledger they come from."""

    id: uuid.UUID
    year: int
    budget_cents: int
    granted_cents: int = Field(description="Every grant (gross).")
    spent_cents: int = Field(description="What the closing reports say was spent.")
    returned_cents: int = Field(description="Unspent granted money returned to the budget.")
    available_cents: int = Field(description="budget - granted + returned: the sum of the ledger.")
    ledger: list[LedgerEntryRead]

    @classmethod
    def of(cls, view: YearPlanView, entries: list[LedgerEntryView]) -> YearPlanMoneyRead:
        return cls(
            id=view.id,
            year=view.year,
            budget_cents=view.budget_cents,
            granted_cents=view.granted_cents,
            spent_cents=view.spent_cents,
            returned_cents=view.returned_cents,
            available_cents=view.available_cents,
            ledger=[
                LedgerEntryRead(
                    position=e.position,
                    kind=e.kind,
                    amount_cents=e.amount_cents,
                    balance_after_cents=e.balance_after_cents,
                    initiative_id=e.initiative_id,
                    created_at=e.created_at,
                )
                for e in entries
            ],
        )
