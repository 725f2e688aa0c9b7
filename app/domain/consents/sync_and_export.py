"""Consents in offline sync (entity ``consent``) and in the subject-access export. Imported by
``service.py``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.consents import repository
from app.domain.consents.models import Consent
from app.domain.consents.service import SYNC_ENTITY, to_read
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import (
    ExportSection,
    Subject,
    SyncEntity,
    SyncRecord,
    rows_referencing_member,
)


async def _records(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[SyncRecord]:
    consents = list((await session.execute(select(Consent).where(where))).scalars())
    today = await repository.today(session)
    return [SyncRecord(c.id, c.household_id, to_read(c, today).model_dump(mode="json")) for c in consents]


async def _by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(Consent.id).in_(ids))


async def _by_households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(Consent.household_id).in_(ids))


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """Every consent the person gave, withdrawn ones included."""
    return [r.data for r in await _records(session, col(Consent.member_id).in_(subject.member_ids))]


SYNC_ENTITIES = (
    SyncEntity(
        SYNC_ENTITY,
        _by_ids,
        _by_households,
        rows_referencing_member(col(Consent.id), col(Consent.member_id), ChangeOp.delete),
    ),
)
EXPORT_SECTIONS = (ExportSection("consents", _export),)
