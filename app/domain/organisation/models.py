"""Organisation context tables: municipality, areas (wijken, buurten), teams, workers, partners."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, string_array, timestamp_now, uuid_pk


class AreaLevel(StrEnum):
    wijk = "wijk"
    buurt = "buurt"


class PartnerKind(StrEnum):
    gp = "gp"
    housing = "housing"
    school = "school"
    debt_help = "debt_help"
    youth_care = "youth_care"
    mental_health = "mental_health"
    welfare = "welfare"
    police = "police"
    other = "other"


class WorkerRole(StrEnum):
    generalist = "generalist"
    team_lead = "team_lead"


class Municipality(SQLModel, table=True):
    __tablename__ = "municipalities"

    id: uuid.UUID = uuid_pk()
    code: str = Field(unique=True, max_length=6)  # GM + 4 digits
    name: str = Field(max_length=120)
    created_at: datetime = timestamp_now()


class Area(SQLModel, table=True):
    """A wijk (district, WK + 6 digits) or a buurt (neighbourhood, BU + 8 digits) inside a wijk."""

    __tablename__ = "areas"
    __table_args__ = (one_of("level", AreaLevel),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id", index=True)
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="areas.id", index=True)
    code: str = Field(unique=True, max_length=10)
    name: str = Field(max_length=120)
    level: str = Field(max_length=8)
    created_at: datetime = timestamp_now()


class Team(SQLModel, table=True):
    __tablename__ = "teams"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id", index=True)
    name: str = Field(max_length=120)
    created_at: datetime = timestamp_now()


class TeamArea(SQLModel, table=True):
    """The buurten a team covers; a buurt belongs to at most one team (routing is unambiguous)."""

    __tablename__ = "team_areas"

    team_id: uuid.UUID = Field(foreign_key="teams.id", primary_key=True, ondelete="CASCADE")
    area_id: uuid.UUID = Field(foreign_key="areas.id", primary_key=True, unique=True)


class Worker(SQLModel, table=True):
    __tablename__ = "workers"
    __table_args__ = (one_of("role", WorkerRole),)

    id: uuid.UUID = uuid_pk()
    name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=254)
    role: str = Field(max_length=20)
    specialisms: list[str] = string_array()
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = timestamp_now()


class WorkerTeam(SQLModel, table=True):
    __tablename__ = "worker_teams"

    worker_id: uuid.UUID = Field(foreign_key="workers.id", primary_key=True, ondelete="CASCADE")
    team_id: uuid.UUID = Field(foreign_key="teams.id", primary_key=True, index=True, ondelete="CASCADE")


class PartnerOrganisation(SQLModel, table=True):
    __tablename__ = "partner_organisations"
    __table_args__ = (one_of("kind", PartnerKind),)

    id: uuid.UUID = uuid_pk()
    name: str = Field(max_length=160)
    kind: str = Field(max_length=20)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = timestamp_now()
