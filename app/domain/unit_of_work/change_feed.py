"""The change feed: one row per change of a case object, read by offline sync.

A unit of work records a change in the same transaction as the change itself (``UnitOfWork.
record_change``): op ``upsert`` after creating or updating a case object, ``delete`` after deleting
one, ``access`` when who may see a household changes (with the audience before the change; the
households context computes it). The entity name must be one the wiring's sync registry knows
(``app.bootstrap``), or phones never get it; a test holds every name recorded in the code against it.

``txid`` (the writing transaction) makes sync cursors safe. The table is range-partitioned by month of
``changed_at`` (migration 0180, ``partitions.py``); sync reads by ``txid`` across the partitions, and
retention drops whole months past their term.

A sync cursor is a transaction-id watermark: every transaction below it had finished when the cursor
was issued, so "changes with txid in [previous watermark, current watermark)" skips nothing even
when transactions commit out of order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, utcnow


class ChangeOp(StrEnum):
    upsert = "upsert"
    delete = "delete"
    access = "access"  # who may see the household changed (handover, confidentiality, assignment)


class CaseChange(SQLModel, table=True):
    __tablename__ = "case_changes"
    __table_args__ = (
        one_of("op", ChangeOp),
        sa.Index("ix_case_changes_txid", "txid"),
        sa.Index("ix_case_changes_household_id", "household_id"),
        {"postgresql_partition_by": "RANGE (changed_at)"},
    )

    # The order of the feed (its own sequence); with the partition key, the primary key.
    seq: int | None = Field(
        default=None, primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": True}
    )
    txid: int = Field(
        sa_type=sa.BigInteger,
        sa_column_kwargs={"server_default": sa.text("pg_current_xact_id()::text::bigint"), "nullable": False},
    )
    household_id: uuid.UUID
    entity: str = Field(max_length=32)  # household, member, contact_moment, theme, assessment, plan, ...
    entity_id: uuid.UUID
    op: str = Field(max_length=8)
    # For op=access (and op=delete of entity "household"): who could see the household *before* the
    # change, so their phones get a tombstone — every member of former_team_id (None when the household
    # was confidential) plus former_worker_ids (coordinator, assigned, break-glass holders).
    # app.domain.households.service.former_audience computes both.
    former_team_id: uuid.UUID | None = None
    former_worker_ids: list[uuid.UUID] | None = Field(default=None, sa_type=ARRAY(sa.Uuid))
    # The partition key (a month per partition, migration 0180): in the primary key, as PostgreSQL
    # requires of a partitioned table.
    changed_at: datetime = Field(
        default_factory=utcnow,
        primary_key=True,
        sa_column_kwargs={"server_default": sa.func.now()},
        sa_type=sa.DateTime(timezone=True),
    )


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One change-feed row of a unit of work, written with the work (``CaseChange``'s own columns:
    ``seq``, ``txid`` and ``changed_at`` are the database's)."""

    household_id: uuid.UUID
    entity: str
    entity_id: uuid.UUID
    op: ChangeOp = ChangeOp.upsert
    former_team_id: uuid.UUID | None = None
    former_worker_ids: list[uuid.UUID] | None = None

    def row(self) -> dict[str, Any]:
        return {
            "household_id": self.household_id,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "op": str(self.op),
            "former_team_id": self.former_team_id,
            "former_worker_ids": self.former_worker_ids,
        }
