"""What each context contributes to offline sync and to the subject-access export, as data.

A context declares its sync entities and its export sections as module constants (in its
``sync_and_export.py``)::

    SYNC_ENTITIES = (SyncEntity("assessment", by_ids, by_households),)
    EXPORT_SECTIONS = (ExportSection("assessments", export),)

and the composition root (``app.bootstrap``) puts every context's constants together in a literal
list, once. Nothing registers itself by being imported, so nothing can go missing silently: a test
holds every entity name passed to ``record_change`` against the registry.

Sync entities. ``by_ids`` returns the current state of those of ``ids`` that still exist (missing ones
become tombstones); an entity that ``follows_household`` is one document per household (its id is the
household's), derived from the rest of the file (the household's worklist): it is never recorded in the
change feed, sync reloads it whenever anything of its household changed; ``by_households`` returns
every object of those households (used when a household newly enters a caseload, or on a full sync).
Both get ids the caller may see (sync applies the household filter), must be one statement each (no
per-row queries), and return JSON-ready data without secrets (no BSN: phones never hold one).

Export sections return everything of the context about the subject's member and household ids,
JSON-ready (``model_dump(mode="json")``), one statement where they can, secrets masked.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.domain.unit_of_work.change_feed import ChangeOp

# -- offline sync -----------------------------------------------------------------------------------


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
    # One document per household, reloaded by sync whenever any change of its household comes by.
    follows_household: bool = False


def rows_referencing_member(id_column: Any, member_column: Any, op: ChangeOp) -> MemberCascade:
    """A member cascade for an entity whose ``member_column`` references members (see the registry)."""

    async def touched(session: AsyncSession, member_id: uuid.UUID) -> list[tuple[uuid.UUID, ChangeOp]]:
        ids = await session.scalars(select(id_column).where(member_column == member_id))
        return [(i, op) for i in ids]

    return touched


class SyncRegistry:
    """The entities that sync to phones, by name, households first (a phone files the rest under
    them)."""

    def __init__(self, entities: Iterable[SyncEntity]) -> None:
        self._entities: dict[str, SyncEntity] = {}
        for entity in entities:
            if entity.name in self._entities:
                raise ValueError(f"sync entity {entity.name!r} declared twice")
            self._entities[entity.name] = entity

    def get(self, name: str) -> SyncEntity | None:
        return self._entities.get(name)

    def names(self) -> frozenset[str]:
        return frozenset(self._entities)

    def in_snapshot_order(self) -> list[SyncEntity]:
        return sorted(self._entities.values(), key=lambda e: e.name != "household")

    def following_households(self) -> list[SyncEntity]:
        return [e for e in self._entities.values() if e.follows_household]

    async def member_cascade(
        self, session: AsyncSession, member_id: uuid.UUID
    ) -> list[tuple[str, uuid.UUID, ChangeOp]]:
        """What deleting ``member_id`` will remove or change in other entities: (entity, id, op)."""
        touched: list[tuple[str, uuid.UUID, ChangeOp]] = []
        for entity in self._entities.values():
            if entity.member_cascade is not None:
                touched += [(entity.name, i, op) for i, op in await entity.member_cascade(session, member_id)]
        return touched


# -- subject-access export ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """One person as the export finds them: every member row (e.g. after a move) and household."""

    member_ids: tuple[uuid.UUID, ...]
    household_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class ExportSection:
    name: str
    read: Callable[[AsyncSession, Subject], Awaitable[Any]]


class ExportRegistry:
    """The sections of a subject-access export, in the order they were declared."""

    def __init__(self, sections: Iterable[ExportSection]) -> None:
        self.sections = tuple(sections)
        names = [s.name for s in self.sections]
        if len(set(names)) != len(names):
            raise ValueError(f"export sections declared twice: {sorted(names)}")
