"""The worklist's facts per household (``worklist_facts``), kept by PostgreSQL (migration 0270).

The items of a household (``worklist.HOUSEHOLD_ITEMS``) follow from these dates and from the thresholds
(settings, parameters of the query), not from today: its stored tier, its last contact, its one active
plan, the oldest outbound referral waiting for a partner's response and the latest end of a consent not
withdrawn. Statement triggers on contact_moments, plans, referrals, consents and household_tiers work
the row out again for every household a statement touched (an UPDATE only where a column the facts use
changed), in the same transaction, under a per-household advisory lock taken first (so two writers of
one household cannot store a stale row; not the household's row, which the services lock before a plan
and the trigger would lock after one). A statement over many households takes one lock of the facts
table instead (migration 0280: a lock each overflowed PostgreSQL's lock table). No write path has to
remember it; the worklist reads one row per household instead of probing five tables for each. A
household no source was written for yet may have no row: readers join it with LEFT JOIN."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Field, SQLModel


class WorklistFacts(SQLModel, table=True):
    __tablename__ = "worklist_facts"

    household_id: uuid.UUID = Field(foreign_key="households.id", primary_key=True, ondelete="CASCADE")
    tier: str | None = Field(default=None, max_length=16)  # household_tiers.tier
    last_contact_on: date | None = None  # the local date of the latest contact moment
    plan_id: uuid.UUID | None = None  # the active plan
    plan_revision: int | None = None
    plan_agreed: bool = False
    plan_evaluation_date: date | None = None
    outbound_waiting_since: date | None = None  # the oldest outbound referral still 'submitted'
    consent_valid_until: date | None = None  # the latest valid_until of a consent not withdrawn
