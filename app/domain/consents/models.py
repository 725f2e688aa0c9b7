"""The consents table. A consent is never deleted or edited, only withdrawn (an immutable record)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import string_array, timestamp_now, tz_datetime, uuid_pk
from app.domain.households.models import RecordedBy


class DataCategory(StrEnum):
    """What personal data a consent lets the team pass on (the referral's reason always travels)."""

    identity = "identity"  # family name and birth date (a given name always travels)
    address = "address"  # postcode, house number, buurt
    contact = "contact"  # a phone number


class Consent(SQLModel, table=True):
    __tablename__ = "consents"
    __table_args__ = (
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="period_ordered"),
        sa.CheckConstraint("cardinality(categories) > 0", name="has_categories"),
        sa.CheckConstraint(
            "categories <@ ARRAY[" + ", ".join(f"'{c}'" for c in DataCategory) + "]::varchar[]",
            name="categories_allowed",
        ),
        sa.CheckConstraint(
            "withdrawal_recorded_by IS NULL OR withdrawal_recorded_by IN ("
            + ", ".join(f"'{r}'" for r in RecordedBy)
            + ")",
            name="withdrawal_recorded_by_allowed",
        ),
        sa.CheckConstraint(
            "(withdrawn_at IS NULL) = (withdrawal_recorded_by IS NULL)", name="withdrawal_recorded_by_set"
        ),
        sa.Index("ix_consents_household_id_created_at", "household_id", "created_at"),
        sa.Index("ix_consents_member_organisation", "member_id", "organisation_id"),
    )

    id: uuid.UUID = uuid_pk()
    household_id: uuid.UUID = Field(foreign_key="households.id", ondelete="CASCADE")
    member_id: uuid.UUID = Field(foreign_key="members.id", ondelete="CASCADE")
    organisation_id: uuid.UUID = Field(foreign_key="partner_organisations.id", index=True)
    # The purpose is a life domain: "share with the debt-help partner about finances".
    purpose: str = Field(foreign_key="life_domains.code", max_length=40)
    categories: list[str] = string_array()
    valid_from: date
    valid_until: date | None = None
    recorded_by_worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    withdrawn_at: datetime | None = tz_datetime()
    withdrawn_by_worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    # The team recorded the withdrawal, or the member withdrew the consent themself (self-service).
    withdrawal_recorded_by: str | None = Field(default=None, max_length=8)
    created_at: datetime = timestamp_now()
