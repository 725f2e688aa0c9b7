"""Read models of the statistics API (there is nothing to write)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.domain.stats.catalogue import Kind, Level
from app.domain.stats.disclosure import Suppression
from app.domain.stats.periods import Granularity

# Stable CSV columns, in this order (documented in docs/statistics.md).
CSV_COLUMNS = (
    "measure",
    "area_code",
    "area_name",
    "area_level",
    "period",
    "period_start",
    "period_end",
    "category",
    "value",
    "suppressed",
)


class BreakdownRead(BaseModel):
    name: str
    description: str
    values: list[str]
    total: bool = Field(description="Whether the categories add up and a 'total' row is published too.")


class MeasureRead(BaseModel):
    id: str = Field(examples=["households_closed"])
    title: str
    definition: str
    unit: str = Field(examples=["households"])
    kind: Kind
    breakdown: BreakdownRead | None
    levels: list[Level]
    periods: list[Granularity]


class DisclosureRead(BaseModel):
    threshold: int = Field(description="Counts under this are withheld (reason below_threshold).")
    rounding_base: int = Field(description="Published counts are multiples of this.")
    min_denominator: int = Field(description="Ratios and medians need a group at least this large.")
    reasons: dict[str, str]


class DimensionRead(BaseModel):
    name: str
    description: str
    values: list[str]


class CatalogueRead(BaseModel):
    measures: list[MeasureRead]
    dimensions: list[DimensionRead]
    disclosure: DisclosureRead


class StatsRow(BaseModel):
    model_config = ConfigDict(use_enum_values=True)

    area_code: str = Field(examples=["BU03630001"], description="CBS code; a resident network's id")
    area_name: str
    area_level: Level
    period: str = Field(examples=["2026-Q1"], description="YYYY, YYYY-Qn or YYYY-MM")
    period_start: date
    period_end: date = Field(description="The period's last day")
    category: str = Field(examples=["total"])
    value: int | float | None = Field(description="null when withheld; never 0 for a withheld figure")
    suppressed: Suppression | None = Field(
        default=None,
        description="Why the value is withheld: below_threshold, complementary, small_denominator",
    )


class StatsResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    measure: str
    unit: str
    area: str = Field(description="The area the rows lie in (GM, WK or BU code)")
    level: Level
    period: Granularity
    from_: date = Field(alias="from")
    to: date
    as_of: datetime = Field(description="When the figures were computed from the case data (the rollups)")
    disclosure: DisclosureRead
    rows: list[StatsRow]
