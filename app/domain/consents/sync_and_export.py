"""Consents in offline sync (entity ``consent``) and in the subject-access export. Imported by
``service.py``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.consents import repository
from app.domain.consents.models import Consent
from app.domain.consents.schemas import ConsentRead
from app.domain.consents.service import SYNC_ENTITY, to_read
from app.domain.documents import json_object
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import (
    ExportSection,
    Subject,
    SyncEntity,
    rows_referencing_member,
    sync_documents,
)


def _documents() -> sa.Select[Any]:
    consents = table_of(Consent)
    fields: dict[str, Any] = {
        name: consents.c[name] for name in ConsentRead.model_fields if name in consents.c
    }
    data = json_object(ConsentRead, fields | {"in_force": repository.in_force_clause()})
    return sync_documents(consents.c.id, consents.c.household_id, data)


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """Every consent the person gave, withdrawn ones included."""
    consents = await session.scalars(select(Consent).where(col(Consent.member_id).in_(subject.member_ids)))
    today = await repository.today(session)
    return [to_read(c, today).model_dump(mode="json") for c in consents]


SYNC_ENTITIES = (
    SyncEntity(
        SYNC_ENTITY,
        _documents(),
        rows_referencing_member(col(Consent.id), col(Consent.member_id), ChangeOp.delete),
    ),
)
EXPORT_SECTIONS = (ExportSection("consents", _export),)
