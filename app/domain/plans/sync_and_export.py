"""The plans context in offline sync and in the subject-access export.

A plan version is one sync entity (``plan``): its payload is the whole version with goals and
actions, evaluations and the members' own views on them, and every change to any of them records a
``plan`` change. Listed in ``app.bootstrap``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.base import table_of
from app.domain.documents import json_object
from app.domain.plans import repository as repo
from app.domain.plans.models import Plan, PlanEvaluationView
from app.domain.plans.schemas import PlanRead
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import (
    ExportSection,
    Subject,
    SyncEntity,
    rows_referencing_member,
    sync_documents,
)

ENTITY = "plan"


def _documents() -> sa.Select[Any]:
    plans = table_of(Plan)
    return sync_documents(plans.c.id, plans.c.household_id, json_object(PlanRead, repo.plan_fields()))


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """Every plan version of the person's households, with goals, actions, the agreement and the
    evaluations; of the members' own views on those, the person's only (another member's view is
    that member's data)."""
    rows = await repo.read_rows(session, col(Plan.household_id).in_(subject.household_ids))
    plans = [PlanRead.model_validate(dict(r)) for r in rows]
    own = set(subject.member_ids)
    for plan in plans:
        for evaluation in plan.evaluations:
            evaluation.member_views = [v for v in evaluation.member_views if v.member_id in own]
    return [plan.model_dump(mode="json") for plan in plans]


async def _member_cascade(session: AsyncSession, member_id: uuid.UUID) -> list[tuple[uuid.UUID, ChangeOp]]:
    """The versions a member's delete changes: those they agreed to, and those with their own view on
    an evaluation (the view goes with the member)."""
    agreed = await rows_referencing_member(col(Plan.id), col(Plan.agreed_by_member_id), ChangeOp.upsert)(
        session, member_id
    )
    viewed = await rows_referencing_member(
        col(PlanEvaluationView.plan_id), col(PlanEvaluationView.member_id), ChangeOp.upsert
    )(session, member_id)
    return list(dict.fromkeys(agreed + viewed))


SYNC_ENTITIES = (SyncEntity(ENTITY, _documents(), _member_cascade),)
EXPORT_SECTIONS = (ExportSection("plans", _export),)
