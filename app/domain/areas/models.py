"""The postcode table: per year, ranges of house numbers of a postcode and the buurt they lie in.

CBS publishes one line per address (postcode, house number, buurt, wijk, gemeente); the importer
folds consecutive house numbers of one postcode in one buurt into a range, so a postcode that lies
in one buurt is one row, and one that spans two buurten is a row per stretch. ``postcode_imports``
remembers what each year's import held per municipality, so importing the same file again changes
nothing.

The wijken and buurten themselves are the organisation's (``organisation.models.Area``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import timestamp_now

HIGHEST_HOUSE_NUMBER = 99_999


class PostcodeArea(SQLModel, table=True):
    """House numbers ``house_number_from`` .. ``house_number_to`` of ``postcode`` lie in buurt
    ``area_id`` according to the table of ``year``."""

    __tablename__ = "postcode_areas"
    __table_args__ = (
        sa.CheckConstraint(
            f"house_number_from BETWEEN 1 AND house_number_to AND house_number_to <= {HIGHEST_HOUSE_NUMBER}",
            name="house_numbers_ordered",
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2999", name="year_range"),
        sa.Index("ix_postcode_areas_postcode_year", "postcode", "year"),
    )

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    postcode: str = Field(primary_key=True, max_length=6)
    house_number_from: int = Field(primary_key=True)
    house_number_to: int
    area_id: uuid.UUID = Field(foreign_key="areas.id", index=True)


class PostcodeImport(SQLModel, table=True):
    """The last import of a year's table for one municipality: what it held (``digest`` of its
    ranges), and how much."""

    __tablename__ = "postcode_imports"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id", primary_key=True)
    digest: str = Field(max_length=64)
    addresses: int
    ranges: int
    imported_at: datetime = timestamp_now()
