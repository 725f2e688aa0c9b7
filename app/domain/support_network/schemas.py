"""Network-map schemas: separate Create / Update / Read models; inputs refuse unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.inputs import Flag, WholeNumber
from app.domain.support_network.models import Frequency, Relation, SupportKind
from app.domain.text import SingleLine

Label = Annotated[
    SingleLine,
    Field(
        min_length=1,
        max_length=40,
        description='A first name or a role ("Ans", "neighbour"); no surname, address or phone number.',
        examples=["neighbour"],
    ),
]
Reliability = Annotated[
    int, Field(ge=1, le=5, description="1 cannot be counted on ... 5 always there."), WholeNumber
]
SupportKinds = Annotated[list[SupportKind], Field(max_length=len(SupportKind))]


class NetworkPersonCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "label": "neighbour",
                    "relation": "neighbour",
                    "support_kinds": ["practical", "company"],
                    "frequency": "weekly",
                    "reliability": 4,
                    "engaged": True,
                }
            ]
        },
    )

    label: Label
    relation: Relation
    support_kinds: SupportKinds = Field(default_factory=list)
    frequency: Frequency | None = None
    reliability: Reliability | None = None
    engaged: Flag = Field(default=False, description="Actively involved in supporting the household now.")


class NetworkPersonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Label | None = None
    relation: Relation | None = None
    support_kinds: SupportKinds | None = None
    frequency: Frequency | None = None
    reliability: Reliability | None = None
    engaged: Flag | None = None


class NetworkPersonRead(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID
    label: str
    relation: Relation
    support_kinds: list[SupportKind]
    frequency: Frequency | None
    reliability: int | None
    engaged: bool
    version: int
    created_at: datetime
    updated_at: datetime


class EngagedPerson(BaseModel):
    id: uuid.UUID
    label: str
    relation: Relation
    support_kinds: list[SupportKind]


class NetworkSummary(BaseModel):
    """The household's network at a glance (the overview's network block)."""

    people: int = Field(description="People on the map.")
    engaged: int = Field(description="People actively involved now.")
    by_support_kind: dict[SupportKind, int] = Field(
        description="How many people give each kind of support (every kind listed, 0 when none)."
    )
    engaged_people: list[EngagedPerson]
