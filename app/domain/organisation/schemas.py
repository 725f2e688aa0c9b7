"""Create / Update / Read models of the organisation context.

Inputs forbid unknown fields and never include server-owned fields (ids, timestamps, secret hashes).
Reads never carry a password or secret hash; a client secret appears once, in ``ClientCredentials``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.domain.inputs import Flag
from app.domain.organisation.models import AreaLevel, PartnerKind, WorkerRole
from app.domain.organisation.rules import BUURT_CODE, MUNICIPALITY_CODE, WIJK_CODE
from app.domain.text import Email, SingleLine

Name = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
LongName = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
Specialism = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- municipality ----------------------------------------------------------------------------------


class MunicipalityCreate(Input):
    # The service checks the code (rules.check_municipality_code, rule cbs_code_format); the
    # contract states the same pattern.
    code: SingleLine = Field(
        max_length=6,
        examples=["GM9999"],
        description="CBS code: 'GM' + 4 digits.",
        json_schema_extra={"pattern": f"^{MUNICIPALITY_CODE.pattern}$"},
    )
    name: Name = Field(examples=["Gemeente Waddenmeer"])


class MunicipalityUpdate(Input):
    name: Name | None = None


class MunicipalityRead(Output):
    id: uuid.UUID
    code: str
    name: str
    created_at: datetime


# -- areas -----------------------------------------------------------------------------------------


class AreaCreate(Input):
    municipality_id: uuid.UUID
    code: SingleLine = Field(
        max_length=10,
        examples=["BU99990101"],
        description="'WK' + 6 digits (wijk) or 'BU' + 8 digits (buurt); the level follows from it.",
        # Checked by the service (rules.check_area_code, rule cbs_code_format); stated here.
        json_schema_extra={"pattern": f"^({WIJK_CODE.pattern}|{BUURT_CODE.pattern})$"},
    )
    name: Name = Field(examples=["Poort"])
    parent_id: uuid.UUID | None = Field(
        default=None,
        description="A buurt's wijk. When omitted for a buurt, the wijk its code continues is used.",
    )


class AreaUpdate(Input):
    """Codes are immutable (households, statistics and nesting refer to them); the name may change."""

    name: Name | None = None


class AreaRead(Output):
    id: uuid.UUID
    municipality_id: uuid.UUID
    parent_id: uuid.UUID | None
    code: str
    name: str
    level: AreaLevel
    team_id: uuid.UUID | None = Field(default=None, description="The team covering this buurt, if any.")
    created_at: datetime


# -- teams -----------------------------------------------------------------------------------------


class TeamCreate(Input):
    municipality_id: uuid.UUID
    name: Name = Field(examples=["Wijkteam Stedenwijk"])
    buurt_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class TeamUpdate(Input):
    name: Name | None = None


class TeamBuurtAdd(Input):
    buurt_id: uuid.UUID


class TeamRead(Output):
    id: uuid.UUID
    municipality_id: uuid.UUID
    name: str
    buurt_ids: list[uuid.UUID] = Field(default_factory=list, description="The buurten this team covers.")
    created_at: datetime


# -- workers ---------------------------------------------------------------------------------------


class WorkerCreate(Input):
    name: Name
    email: Email | None = None
    role: WorkerRole
    specialisms: list[Specialism] = Field(default_factory=list, max_length=20, examples=[["debts", "youth"]])
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    active: Flag = True


class WorkerUpdate(Input):
    name: Name | None = None
    email: Email | None = None
    role: WorkerRole | None = None
    specialisms: list[Specialism] | None = Field(default=None, max_length=20)
    team_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=20, description="Replaces the memberships."
    )
    active: Flag | None = None


class WorkerRead(Output):
    id: uuid.UUID
    name: str
    email: str | None
    role: WorkerRole
    specialisms: list[str]
    team_ids: list[uuid.UUID] = Field(default_factory=list)
    active: bool
    created_at: datetime


# -- partner organisations -------------------------------------------------------------------------


class PartnerCreate(Input):
    name: LongName = Field(examples=["Schuldhulp Waddenmeer"])
    kind: PartnerKind
    active: Flag = True


class PartnerUpdate(Input):
    name: LongName | None = None
    kind: PartnerKind | None = None
    active: Flag | None = None


class PartnerRead(Output):
    id: uuid.UUID
    name: str
    kind: PartnerKind
    active: bool
    created_at: datetime
