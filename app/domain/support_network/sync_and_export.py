"""The network map in offline sync (entity ``network_person``) and in the subject-access export.

Listed in ``app.bootstrap``; ``ENTITY`` is the name the service records changes under.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.support_network import repository as repo
from app.domain.support_network.models import NetworkPerson
from app.domain.support_network.schemas import NetworkPersonRead
from app.domain.unit_of_work.registries import ExportSection, Subject, SyncEntity, SyncRecord

ENTITY = "network_person"


def to_read(person: NetworkPerson) -> NetworkPersonRead:
    return NetworkPersonRead.model_validate(person, from_attributes=True)


async def _records(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[SyncRecord]:
    return [
        SyncRecord(p.id, p.household_id, to_read(p).model_dump(mode="json"))
        for p in await repo.read_rows(session, where)
    ]


async def _by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(NetworkPerson.id).in_(ids))


async def _by_households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(NetworkPerson.household_id).in_(ids))


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """The network map of the person's households (first names or roles only)."""
    where = col(NetworkPerson.household_id).in_(subject.household_ids)
    return [r.data for r in await _records(session, where)]


SYNC_ENTITIES = (SyncEntity(ENTITY, _by_ids, _by_households),)
EXPORT_SECTIONS = (ExportSection("network_map", _export),)
