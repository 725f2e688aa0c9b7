"""The informal network map: people around a household, with as little data about them as possible.

A person is a first name or a role ("neighbour", "aunt"), never a full name, address or phone
number: they did not ask to be in a case file, and the team needs to know who helps, not who they
are (data minimisation).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, timestamp_now, uuid_pk


class Relation(StrEnum):
    family = "family"
    friend = "friend"
    neighbour = "neighbour"
    acquaintance = "acquaintance"
    informal_carer = "informal_carer"  # mantelzorger
    volunteer = "volunteer"
    community = "community"  # church, mosque, club, association
    other = "other"


class SupportKind(StrEnum):
    practical = "practical"
    emotional = "emotional"
    admin = "admin"
    care = "care"
    company = "company"


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    occasionally = "occasionally"


SUPPORT_KINDS_CHECK = "support_kinds <@ ARRAY[" + ", ".join(f"'{k}'" for k in SupportKind) + "]::varchar[]"


class NetworkPerson(SQLModel, table=True):
    __tablename__ = "network_people"
    __table_args__ = (
        one_of("relation", Relation),
        one_of("frequency", Frequency),
        sa.CheckConstraint(SUPPORT_KINDS_CHECK, name="support_kinds_allowed"),
        sa.CheckConstraint("reliability IS NULL OR reliability BETWEEN 1 AND 5", name="reliability_range"),
    )

    id: uuid.UUID = uuid_pk()
    household_id: uuid.UUID = Field(foreign_key="households.id", index=True, ondelete="CASCADE")
    label: str = Field(max_length=40)  # a first name or a role, nothing else identifying
    relation: str = Field(max_length=16)
    support_kinds: list[str] = Field(
        default_factory=list,
        sa_type=ARRAY(sa.String(length=12)),
        sa_column_kwargs={"nullable": False, "server_default": "{}"},
    )
    frequency: str | None = Field(default=None, max_length=16)
    reliability: int | None = None
    engaged: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    updated_at: datetime = timestamp_now()
