"""The plans context in offline sync and in the subject-access export.

A plan version is one sync entity (``plan``): its payload is the whole version with goals and
actions, and every change to any of them records a ``plan`` change. Listed in ``app.bootstrap``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.plans import repository as repo
from app.domain.plans.models import Plan
from app.domain.plans.schemas import PlanRead
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import (
    ExportSection,
    Subject,
    SyncEntity,
    SyncRecord,
    rows_referencing_member,
)

ENTITY = "plan"


async def _records(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[SyncRecord]:
    rows = await repo.read_rows(session, where)
    return [
        SyncRecord(r["id"], r["household_id"], PlanRead.model_validate(dict(r)).model_dump(mode="json"))
        for r in rows
    ]


async def _by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(Plan.id).in_(ids))


async def _by_households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(Plan.household_id).in_(ids))


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """Every plan version of the person's households, with goals, actions and the agreement."""
    return [r.data for r in await _records(session, col(Plan.household_id).in_(subject.household_ids))]


SYNC_ENTITIES = (
    SyncEntity(
        ENTITY,
        _by_ids,
        _by_households,
        rows_referencing_member(col(Plan.id), col(Plan.agreed_by_member_id), ChangeOp.upsert),
    ),
)
EXPORT_SECTIONS = (ExportSection("plans", _export),)
