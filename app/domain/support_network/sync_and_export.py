"""The network map in offline sync (entity ``network_person``) and in the subject-access export.

Listed in ``app.bootstrap``; ``ENTITY`` is the name the service records changes under.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.base import table_of
from app.domain.documents import json_object
from app.domain.support_network import repository as repo
from app.domain.support_network.models import NetworkPerson
from app.domain.support_network.schemas import NetworkPersonRead
from app.domain.unit_of_work.registries import ExportSection, Subject, SyncEntity, sync_documents

ENTITY = "network_person"


def to_read(person: NetworkPerson) -> NetworkPersonRead:
    return NetworkPersonRead.model_validate(person, from_attributes=True)


def _documents() -> sa.Select[Any]:
    people = table_of(NetworkPerson)
    fields = {name: people.c[name] for name in NetworkPersonRead.model_fields}
    return sync_documents(people.c.id, people.c.household_id, json_object(NetworkPersonRead, fields))


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """The network map of the person's households (first names or roles only)."""
    where = col(NetworkPerson.household_id).in_(subject.household_ids)
    return [to_read(p).model_dump(mode="json") for p in await repo.read_rows(session, where)]


SYNC_ENTITIES = (SyncEntity(ENTITY, _documents()),)
EXPORT_SECTIONS = (ExportSection("network_map", _export),)
