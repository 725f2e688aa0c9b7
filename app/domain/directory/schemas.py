"""Inputs (``extra="forbid"``; ids, versions, dates of change and assurance are the server's) and read
models of the directory.

A service's children travel with it: ``locations`` (where it is offered, HSDS service_at_location),
``areas`` (which buurten, wijken or the whole municipality it serves, by CBS code) and ``schedules``
(opening hours). On an update a list that is sent replaces the one stored; one left out is kept.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.domain.directory.models import ServiceStatus
from app.domain.inputs import Flag, WholeNumber
from app.domain.text import Email, MultiLine, SingleLine

AreaCode = Annotated[str, StringConstraints(pattern=r"^(BU\d{8}|WK\d{6}|GM\d{4})$")]
BuurtCode = Annotated[str, StringConstraints(pattern=r"^BU\d{8}$")]
Name = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
Line = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[MultiLine, StringConstraints(strip_whitespace=True, max_length=4000)]
ShortText = Annotated[MultiLine, StringConstraints(strip_whitespace=True, max_length=2000)]
WebAddress = Annotated[SingleLine, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=500)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,20}$")]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[1-9][0-9]{3} ?[A-Z]{2}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Code = Annotated[SingleLine, StringConstraints(min_length=1, max_length=40)]
Age = Annotated[int, Field(ge=0, le=120), WholeNumber]
Weekday = Annotated[
    int, Field(ge=1, le=7, description="ISO weekday: 1 = Monday ... 7 = Sunday."), WholeNumber
]
LocalTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"),
    Field(description="Local wall-clock time, HH:MM or HH:MM:SS, without a zone (the municipality's)."),
]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- organisations ---------------------------------------------------------------------------------


class OrganizationCreate(_Input):
    municipality: Annotated[str, StringConstraints(pattern=r"^GM\d{4}$")] = Field(
        description="The municipality whose sociale kaart lists it (CBS code, e.g. GM0363)."
    )
    name: Name
    description: Text = ""
    email: Email | None = None
    website: WebAddress | None = None
    partner_organisation_id: uuid.UUID | None = Field(
        default=None, description="The partner organisation this is, when it is one of ours."
    )


class OrganizationUpdate(_Input):
    name: Name | None = None
    description: Text | None = None
    email: Email | None = None
    website: WebAddress | None = None


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    email: str | None
    website: str | None
    partner_organisation_id: uuid.UUID | None
    version: int
    last_modified: datetime


# -- locations -------------------------------------------------------------------------------------


class LocationCreate(_Input):
    organization_id: uuid.UUID
    name: Name
    description: Text = ""
    address_1: Line
    postal_code: PostalCode
    city: Name
    neighbourhood: BuurtCode | None = Field(default=None, description="The buurt it lies in (CBS code).")
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class LocationUpdate(_Input):
    name: Name | None = None
    description: Text | None = None
    address_1: Line | None = None
    postal_code: PostalCode | None = None
    city: Name | None = None
    neighbourhood: BuurtCode | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class LocationRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    description: str
    address_1: str
    postal_code: str
    city: str
    neighbourhood: str | None
    latitude: float | None
    longitude: float | None
    version: int
    last_modified: datetime


# -- services --------------------------------------------------------------------------------------


class ScheduleIn(_Input):
    weekday: Weekday
    opens_at: LocalTime
    closes_at: LocalTime
    location_id: uuid.UUID | None = Field(default=None, description="Only at this location of the service.")
    description: Annotated[SingleLine, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def _opens_before_closing(self) -> ScheduleIn:
        if self.opens >= self.closes:
            raise PydanticCustomError("opening_hours_order", "opens_at must be before closes_at.")
        return self

    @property
    def opens(self) -> time:
        return time.fromisoformat(self.opens_at)

    @property
    def closes(self) -> time:
        return time.fromisoformat(self.closes_at)


Languages = Annotated[list[Language], Field(max_length=20, description="ISO 639-1 codes, e.g. nl, en, ar.")]
Codes = Annotated[list[Code], Field(max_length=20)]
Locations = Annotated[list[uuid.UUID], Field(max_length=100)]
Areas = Annotated[
    list[AreaCode],
    Field(max_length=200, description="Buurt (BU...), wijk (WK...) or municipality (GM...) codes it serves."),
]
Schedules = Annotated[list[ScheduleIn], Field(max_length=100)]


class _ServiceFields(_Input):
    @model_validator(mode="after")
    def _age_range(self) -> _ServiceFields:
        low, high = getattr(self, "minimum_age", None), getattr(self, "maximum_age", None)
        if low is not None and high is not None and low > high:
            raise PydanticCustomError("age_range", "minimum_age must not be above maximum_age.")
        return self


class ServiceCreate(_ServiceFields):
    organization_id: uuid.UUID
    name: Name
    description: Text = ""
    status: ServiceStatus = ServiceStatus.active
    eligibility_description: ShortText = ""
    application_process: ShortText = ""
    fees_description: ShortText = ""
    free_of_charge: Flag = False
    languages: Languages = Field(default_factory=list)
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    themes: Codes = Field(default_factory=list, description="Theme codes (GET /api/v1/directory/taxonomy).")
    life_domains: Codes = Field(default_factory=list, description="Life domain codes.")
    email: Email | None = None
    phone: Phone | None = None
    url: WebAddress | None = None
    public: Flag = Field(default=True, description="False: only workers and administrators see it.")
    internal_notes: Text = Field(default="", description="For workers only, never public.")
    locations: Locations = Field(default_factory=list)
    areas: Areas = Field(default_factory=list)
    schedules: Schedules = Field(default_factory=list)


class ServiceUpdate(_ServiceFields):
    name: Name | None = None
    description: Text | None = None
    status: ServiceStatus | None = None
    eligibility_description: ShortText | None = None
    application_process: ShortText | None = None
    fees_description: ShortText | None = None
    free_of_charge: Flag | None = None
    languages: Languages | None = None
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    themes: Codes | None = None
    life_domains: Codes | None = None
    email: Email | None = None
    phone: Phone | None = None
    url: WebAddress | None = None
    public: Flag | None = None
    internal_notes: Text | None = None
    locations: Locations | None = None
    areas: Areas | None = None
    schedules: Schedules | None = None


class AssuranceIn(_Input):
    assurer_email: Email | None = Field(default=None, description="Who to ask about this check.")


class AreaRef(BaseModel):
    code: str
    name: str
    level: str = Field(description="buurt, wijk or municipality")


class ScheduleRead(BaseModel):
    weekday: int
    opens_at: LocalTime
    closes_at: LocalTime
    location_id: uuid.UUID | None
    description: str

    @field_validator("opens_at", "closes_at", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return value.isoformat() if isinstance(value, time) else value


class OrganizationRef(BaseModel):
    id: uuid.UUID
    name: str


class ServiceRead(BaseModel):
    id: uuid.UUID
    organization: OrganizationRef
    name: str
    description: str
    status: str
    eligibility_description: str
    application_process: str
    fees_description: str
    free_of_charge: bool
    languages: list[str]
    minimum_age: int | None
    maximum_age: int | None
    themes: list[str]
    life_domains: list[str]
    email: str | None
    phone: str | None
    url: str | None
    public: bool
    internal_notes: str | None = Field(
        description="Workers, administrators and the organisation itself only; null for everyone else."
    )
    locations: list[LocationRead]
    areas: list[AreaRef]
    schedules: list[ScheduleRead]
    assured_date: date | None
    assurer_email: str | None
    assurer_name: str | None
    stale: bool = Field(description="Not verified within the configured number of months.")
    version: int
    last_modified: datetime


class ServiceHit(BaseModel):
    """One search result: the service, how near the area that matched is, and the text rank."""

    service: ServiceRead
    area_level: str | None = Field(
        description="Why it matched the neighbourhood filter: location (at a place in the buurt), "
        "buurt, wijk or municipality; null without that filter."
    )
    rank: float = Field(description="Full-text rank (0 without a search text).")


class TaxonomyTermRead(BaseModel):
    code: str
    label_nl: str
    label_en: str
