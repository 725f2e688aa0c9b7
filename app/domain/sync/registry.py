"""Which case entities sync to phones, and how to load their current state.

Each context registers its entities once, at import time of a module its router imports (e.g. at
the bottom of its ``service.py``)::

    from app.domain.sync.registry import SyncEntity, SyncRecord, register_sync_entity

    async def _by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
        rows = await session.execute(select(...).where(col(Assessment.id).in_(ids)))
        return [SyncRecord(r.id, r.household_id, AssessmentRead.model_validate(r).model_dump(mode="json"))
                for r in rows]

    async def _by_households(session: AsyncSession, household_ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
        ...  # the same, filtered on household_id IN household_ids

    register_sync_entity(SyncEntity("assessment", _by_ids, _by_households))

and calls ``record_change(session, household_id=..., entity="assessment", entity_id=..., op=...)`` in
the same transaction as every create/update (op upsert) and delete (op delete) of that entity.

Contract: ``by_ids`` returns the current state of those of ``ids`` that still exist (missing ones
become tombstones); ``by_households`` returns every object of those households (used when a
household newly enters a caseload or on a full sync). Both get ids the caller may see (sync applies
the household filter), must be one statement each (no per-row queries), and return JSON-ready data
without secrets (no BSN: phones never hold one).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.changes.models import ChangeOp


@dataclass(frozen=True)
class SyncRecord:
    entity_id: uuid.UUID
    household_id: uuid.UUID
    data: dict[str, Any]


Loader = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[list[SyncRecord]]]
# Ids of this entity that deleting a member removes (ON DELETE CASCADE) or changes (SET NULL).
MemberCascade = Callable[[AsyncSession, uuid.UUID], Awaitable[list[tuple[uuid.UUID, ChangeOp]]]]


@dataclass(frozen=True)
class SyncEntity:
    name: str  # the ``entity`` value used in record_change, e.g. "household", "member", "assessment"
    by_ids: Loader
    by_households: Loader
    # Deleting a member cascades in the database, where no change is recorded: the member delete
    # asks each entity what it will touch, so phones get the tombstones and updates too.
    member_cascade: MemberCascade | None = None


_ENTITIES: dict[str, SyncEntity] = {}


def register_sync_entity(entity: SyncEntity) -> None:
    """Register (or re-register, e.g. on module reload) the loader of one entity name."""
    _ENTITIES[entity.name] = entity


def sync_entity(name: str) -> SyncEntity | None:
    return _ENTITIES.get(name)


def sync_entities() -> list[SyncEntity]:
    return list(_ENTITIES.values())


async def member_cascade(
    session: AsyncSession, member_id: uuid.UUID
) -> list[tuple[str, uuid.UUID, ChangeOp]]:
    """What deleting ``member_id`` will remove or change in other entities: (entity, id, op)."""
    touched: list[tuple[str, uuid.UUID, ChangeOp]] = []
    for entity in _ENTITIES.values():
        if entity.member_cascade is not None:
            touched += [(entity.name, i, op) for i, op in await entity.member_cascade(session, member_id)]
    return touched
