"""The assessments context in offline sync (entity ``assessment``) and in the subject-access export.

Listed in ``app.bootstrap``; ``ENTITY`` is the name the service records changes under.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.assessments import repository as repo
from app.domain.assessments.models import Assessment
from app.domain.assessments.schemas import AssessmentRead
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import (
    ExportSection,
    Subject,
    SyncEntity,
    SyncRecord,
    rows_referencing_member,
)

ENTITY = "assessment"


async def _records(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[SyncRecord]:
    rows = await repo.read_rows(session, where)
    return [
        SyncRecord(r["id"], r["household_id"], AssessmentRead.model_validate(dict(r)).model_dump(mode="json"))
        for r in rows
    ]


async def _by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(Assessment.id).in_(ids))


async def _by_households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(Assessment.household_id).in_(ids))


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """The person's own assessments and those of their households as a whole."""
    about_them = sa.and_(
        col(Assessment.household_id).in_(subject.household_ids),
        sa.or_(col(Assessment.member_id).is_(None), col(Assessment.member_id).in_(subject.member_ids)),
    )
    return [record.data for record in await _records(session, about_them)]


SYNC_ENTITIES = (
    SyncEntity(
        ENTITY,
        _by_ids,
        _by_households,
        rows_referencing_member(col(Assessment.id), col(Assessment.member_id), ChangeOp.delete),
    ),
)
EXPORT_SECTIONS = (ExportSection("assessments", _export),)
