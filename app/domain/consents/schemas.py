"""Consent request and response models."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.domain.consents.models import DataCategory
from app.domain.inputs import IsoDate
from app.domain.text import SingleLine


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: uuid.UUID = Field(description="The household member who gave the consent.")
    organisation_id: uuid.UUID = Field(description="The partner organisation the data may go to.")
    purpose: SingleLine = Field(
        min_length=1, max_length=40, description="Life-domain code the sharing is for.", examples=["finances"]
    )
    categories: list[DataCategory] = Field(
        min_length=1, max_length=3, description="Which personal data may be shared."
    )
    valid_from: IsoDate | None = Field(default=None, description="Defaults to today.")
    valid_until: IsoDate | None = None


class ConsentRead(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID
    member_id: uuid.UUID
    organisation_id: uuid.UUID
    purpose: str
    categories: list[DataCategory]
    valid_from: date
    valid_until: date | None
    withdrawn_at: datetime | None
    in_force: bool = Field(description="Not withdrawn and within its period today.")
    created_at: datetime
