"""Life domains and themes: seeded by a migration, extended by administrators."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class LifeDomain(SQLModel, table=True):
    """A domain of the 1-5 self-sufficiency scale (finances, housing, ...)."""

    __tablename__ = "life_domains"

    code: str = Field(primary_key=True, max_length=40)
    label_nl: str = Field(max_length=80)
    label_en: str = Field(max_length=80)
    position: int = 0
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class Theme(SQLModel, table=True):
    """A recurring question in a neighbourhood (debts, loneliness, ...)."""

    __tablename__ = "themes"

    code: str = Field(primary_key=True, max_length=40)
    label_nl: str = Field(max_length=80)
    label_en: str = Field(max_length=80)
    position: int = 0
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
