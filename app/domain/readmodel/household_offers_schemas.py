"""The answer of "what is there for this household" (``household_offers``)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class OfferKind(StrEnum):
    service = "service"  # a service of the sociale kaart (/api/v1/directory/services/{id})
    initiative = "initiative"  # a running resident initiative (/api/v1/initiatives/{id})


class OfferRead(BaseModel):
    kind: OfferKind
    id: uuid.UUID = Field(description="The service's or the initiative's id.")
    name: str = Field(description="The service's name or the initiative's title.")
    organization_name: str | None = Field(description="Who offers the service; null for an initiative.")
    area_level: Literal["location", "buurt", "wijk", "municipality"] = Field(
        description="How near: offered at a place in the household's buurt, for the buurt, its wijk or "
        "the whole municipality (initiatives: buurt). The ranking's first key."
    )
    matching_themes: list[str] = Field(description="The household's themes the offer carries.")
    matching_life_domains: list[str] = Field(
        description="The life domains of the household's open goals the offer carries."
    )
