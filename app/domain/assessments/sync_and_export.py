"""The assessments context in offline sync (entity ``assessment``) and in the subject-access export.

Listed in ``app.bootstrap``; ``ENTITY`` is the name the service records changes under.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.assessments import repository as repo
from app.domain.assessments.models import Assessment
from app.domain.assessments.schemas import AssessmentRead
from app.domain.base import table_of
from app.domain.documents import json_object
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import (
    ExportSection,
    Subject,
    SyncEntity,
    rows_referencing_member,
    sync_documents,
)

ENTITY = "assessment"


def _documents() -> sa.Select[Any]:
    assessments = table_of(Assessment)
    fields = {name: assessments.c[name] for name in repo.ASSESSMENT_COLUMNS}
    data = json_object(AssessmentRead, fields | {"scores": repo.scores_json()})
    return sync_documents(assessments.c.id, assessments.c.household_id, data)


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """The person's own assessments and those of their households as a whole."""
    about_them = sa.and_(
        col(Assessment.household_id).in_(subject.household_ids),
        sa.or_(col(Assessment.member_id).is_(None), col(Assessment.member_id).in_(subject.member_ids)),
    )
    rows = await repo.read_rows(session, about_them)
    return [AssessmentRead.model_validate(dict(r)).model_dump(mode="json") for r in rows]


SYNC_ENTITIES = (
    SyncEntity(
        ENTITY,
        _documents(),
        rows_referencing_member(col(Assessment.id), col(Assessment.member_id), ChangeOp.delete),
    ),
)
EXPORT_SECTIONS = (ExportSection("assessments", _export),)
