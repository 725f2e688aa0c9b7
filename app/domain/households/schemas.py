"""Request and response models of the household case file. Inputs forbid unknown fields; server-owned
fields (id, reference, team, version, timestamps) are never writable."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.domain.base import utcnow
from app.domain.households.bsn import BsnInvalid, check_bsn
from app.domain.households.models import ClosingReason, ContactKind, HouseholdStatus, MemberRole
from app.domain.households.rules import normalise_postcode
from app.domain.inputs import AwareIsoDatetime, Flag, IsoDate, WholeNumber
from app.domain.text import MultiLine, SingleLine


def _postcode(value: str) -> str:
    normalised = normalise_postcode(value)
    if normalised is None:
        raise PydanticCustomError("postcode_format", "A Dutch postcode: four digits and two letters.")
    return normalised


def _bsn(value: str) -> str:
    # Messages name the rule only; the number itself is never repeated (problems.py drops `input`).
    try:
        return check_bsn(value)
    except BsnInvalid as invalid:
        raise PydanticCustomError(invalid.rule, invalid.message) from None


def _birth_date(value: date) -> date:
    if value > date.today() or value < date(1900, 1, 1):
        raise PydanticCustomError("birth_date_range", "The birth date must be between 1900 and today.")
    return value


def _not_in_future(value: datetime) -> datetime:
    if value > utcnow() + timedelta(minutes=10):
        raise PydanticCustomError("occurred_in_future", "A contact moment cannot lie in the future.")
    return value


# What the validators take, stated in the contract as patterns (ECMAScript syntax): the characters
# Python's str.strip()/str.split() treat as white space are spelt out, since ECMAScript's \s differs,
# less the control characters, which the one-line text rule refuses first.
_SPACE = r"[ \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
# normalise_postcode: four digits (no leading 0), an optional space, two letters but not SA, SD, SS.
POSTCODE_PATTERN = rf"^{_SPACE}*[1-9][0-9]{{3}} ?(?![sS][aAdDsS])[A-Za-z]{{2}}{_SPACE}*$"
# check_bsn: nine digits, not all 0, white space and dots anywhere (the eleven-test no pattern can
# state).
BSN_PATTERN = rf"^(?=[^1-9]*[1-9])[.]*(?:{_SPACE}*[.]*[0-9]){{9}}(?:{_SPACE}|[.])*$"

Postcode = Annotated[
    SingleLine,
    Field(max_length=8, examples=["1234AB"], json_schema_extra={"pattern": POSTCODE_PATTERN}),
    AfterValidator(_postcode),
]
Bsn = Annotated[
    SingleLine,
    Field(
        max_length=11,
        description="Citizen service number (9 digits, eleven-test).",
        json_schema_extra={"pattern": BSN_PATTERN},
    ),
    AfterValidator(_bsn),
]
BirthDate = Annotated[IsoDate, AfterValidator(_birth_date)]
BuurtCode = Annotated[str, Field(pattern=r"^BU[0-9]{8}$", examples=["BU03630000"])]
ThemeCodes = Annotated[list[Annotated[SingleLine, Field(max_length=40)]], Field(max_length=20)]
Addition = Annotated[str, Field(min_length=1, max_length=10, pattern=r"^[A-Za-z0-9 -]+$")]

_INPUT = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- members ------------------------------------------------------------------------------------


class MemberCreate(BaseModel):
    model_config = _INPUT

    given_name: SingleLine = Field(min_length=1, max_length=80)
    family_name: SingleLine | None = Field(default=None, max_length=120)
    birth_date: BirthDate | None = None
    role: MemberRole
    bsn: Bsn | None = None


class MemberUpdate(BaseModel):
    """Send only what changes; ``bsn: null`` removes a stored BSN."""

    model_config = _INPUT

    given_name: SingleLine | None = Field(default=None, min_length=1, max_length=80)
    family_name: SingleLine | None = Field(default=None, max_length=120)
    birth_date: BirthDate | None = None
    role: MemberRole | None = None
    bsn: Bsn | None = None


class MemberRead(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID
    given_name: str
    family_name: str | None
    birth_date: date | None
    role: MemberRole
    has_bsn: bool
    bsn: str | None = Field(
        default=None, description="Only for callers with scope bsn:read, on reads; null otherwise."
    )
    version: int
    created_at: datetime
    updated_at: datetime


# -- contact moments ----------------------------------------------------------------------------


class ContactCreate(BaseModel):
    model_config = _INPUT

    kind: ContactKind
    occurred_at: Annotated[AwareIsoDatetime, AfterValidator(_not_in_future)]
    minutes: Annotated[int, Field(ge=0, le=1440), WholeNumber] = 0
    note: MultiLine | None = Field(default=None, max_length=2000)


class ContactRead(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID
    worker_id: uuid.UUID | None
    kind: ContactKind
    occurred_at: datetime
    minutes: int
    note: str | None
    created_at: datetime


# -- households ---------------------------------------------------------------------------------


class HouseholdCreate(BaseModel):
    """The address is all a registration needs: the buurt follows from it (the municipality's postcode
    table), and the team from the buurt. Everything else may come later."""

    model_config = _INPUT

    postcode: Postcode
    house_number: Annotated[int, Field(ge=1, le=99_999), WholeNumber]
    house_number_addition: Addition | None = None
    buurt_code: BuurtCode | None = Field(
        default=None,
        description="Only to overrule the buurt the postcode table gives for the address (e.g. a new "
        "street the table does not know yet).",
    )
    team_id: uuid.UUID | None = Field(
        default=None, description="One of your teams; by default the team covering the buurt."
    )
    confidential: Flag = False
    themes: ThemeCodes = Field(default_factory=list)
    members: list[MemberCreate] = Field(default_factory=list, max_length=20)
    first_contact: ContactCreate | None = Field(
        default=None,
        description="The contact moment of the intake, with the worker's first note; with it the "
        "household starts in status intake (else registered).",
    )


class HouseholdUpdate(BaseModel):
    """Send only what changes, with the version you edited (``If-Match``, or ``expected_version``).
    Status changes follow the lifecycle; closing needs a ``closing_reason``. ``themes`` replaces the
    whole set. A new address without ``buurt_code`` takes the buurt the postcode table gives."""

    model_config = _INPUT

    postcode: Postcode | None = None
    house_number: Annotated[int, Field(ge=1, le=99_999), WholeNumber] | None = None
    house_number_addition: Addition | None = None
    buurt_code: BuurtCode | None = None
    status: HouseholdStatus | None = None
    closing_reason: ClosingReason | None = None
    confidential: Flag | None = None
    themes: ThemeCodes | None = None
    expected_version: Annotated[int, Field(ge=1), WholeNumber] | None = Field(
        default=None,
        description="The version you edited, instead of If-Match (e.g. the one the registration "
        "answered): a status change needs no read first.",
    )


class HouseholdRead(BaseModel):
    id: uuid.UUID
    reference: str = Field(examples=["HH-7K3M9QXA"])
    team_id: uuid.UUID
    buurt_code: str
    postcode: str
    house_number: int
    house_number_addition: str | None
    coordinator_id: uuid.UUID | None
    coordinator_name: str | None
    status: HouseholdStatus
    confidential: bool
    closing_reason: ClosingReason | None
    themes: list[str]
    registered_at: datetime
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class HouseholdCreated(HouseholdRead):
    members: list[MemberRead]
    first_contact: ContactRead | None = None


class HouseholdSearch(BaseModel):
    """Exactly one way of finding: a BSN, a reference, or an address. Sent as a body so a BSN never
    appears in a URL or an access line."""

    model_config = _INPUT

    bsn: Bsn | None = None
    reference: SingleLine | None = Field(default=None, max_length=20)
    postcode: Postcode | None = None
    house_number: Annotated[int, Field(ge=1, le=99_999), WholeNumber] | None = None

    @model_validator(mode="after")
    def _one_criterion(self) -> HouseholdSearch:
        address = self.postcode is not None or self.house_number is not None
        given = sum([self.bsn is not None, self.reference is not None, address])
        if given != 1 or (address and (self.postcode is None or self.house_number is None)):
            raise PydanticCustomError(
                "search_criterion",
                "Give exactly one of: bsn, reference, or postcode with house_number.",
            )
        return self


# -- access management --------------------------------------------------------------------------


class AssignmentCreate(BaseModel):
    model_config = _INPUT

    worker_id: uuid.UUID


class AssignmentRead(BaseModel):
    worker_id: uuid.UUID
    worker_name: str
    assigned_by: uuid.UUID | None
    assigned_at: datetime


class Handover(BaseModel):
    """Hand the household to a new coordinator, optionally in another team (e.g. after a move)."""

    model_config = _INPUT

    coordinator_id: uuid.UUID
    team_id: uuid.UUID | None = Field(default=None, description="The receiving team; default: unchanged.")


class BreakGlassRequest(BaseModel):
    model_config = _INPUT

    reason: MultiLine = Field(min_length=10, max_length=500, description="Why you need this file now.")


class BreakGlassRead(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID
    granted_at: datetime
    expires_at: datetime


class BreakGlassGrantRead(BreakGlassRead):
    """A use of break-glass access as a team lead reviews it."""

    worker_id: uuid.UUID
    reason: str
    reviewed_at: datetime | None
    reviewed_by: uuid.UUID | None


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
