"""What each context contributes to offline sync and to the subject-access export, as data.

A context declares its sync entities and its export sections as module constants (in its
``sync_and_export.py``)::

    SYNC_ENTITIES = (SyncEntity("assessment", documents),)
    EXPORT_SECTIONS = (ExportSection("assessments", export),)

and the composition root (``app.bootstrap``) puts every context's constants together in a literal
list, once. Nothing registers itself by being imported, so nothing can go missing silently: a test
holds every entity name passed to ``record_change`` against the registry.

Sync entities. ``documents`` is SQL: a SELECT of ``entity_id``, ``household_id`` and ``data`` over
every object of the entity, ``data`` being the object's REST read model as a JSON object built by
PostgreSQL (``app.domain.documents.json_object``), without secrets (no BSN: phones never hold one).
The sync page picks from all entities' documents, by id (what changed) or by household (a household
that newly enters a caseload, a full sync), in one statement: no per-entity round trip, no Python
object per row. A test holds each entity's documents to its read model's own path. An entity whose
documents need values of the settings names them (``values``); one derived from a household's other
objects (the worklist) is ``per_household``: never recorded itself, sent again with every change of
its household.

Export sections return everything of the context about the subject's member and household ids,
JSON-ready (``model_dump(mode="json")``), one statement where they can, secrets masked.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.domain.unit_of_work.change_feed import ChangeOp
from app.settings import Settings

# -- offline sync -----------------------------------------------------------------------------------


# Ids of this entity that deleting a member removes (ON DELETE CASCADE) or changes (SET NULL).
MemberCascade = Callable[[AsyncSession, uuid.UUID], Awaitable[list[tuple[uuid.UUID, ChangeOp]]]]


@dataclass(frozen=True)
class SyncEntity:
    name: str  # the ``entity`` value used in record_change, e.g. "household", "member", "assessment"
    documents: sa.Select[Any]  # entity_id, household_id, data (JSON): see the module's docstring
    # Deleting a member cascades in the database, where no change is recorded: the member delete
    # asks each entity what it will touch, so phones get the tombstones and updates too.
    member_cascade: MemberCascade | None = None
    # The bind values its documents need besides the sync page's own, from the settings.
    values: Callable[[Settings], Mapping[str, Any]] | None = None
    # One document per household (its id is the household's id) derived from the household's other
    # objects, never recorded itself: the sync page sends it again with every change of the household.
    per_household: bool = False


def sync_documents(entity_id: Any, household_id: Any, data: Any) -> sa.Select[Any]:
    """An entity's ``documents``: its id and household columns and its JSON object, labelled."""
    return sa.select(entity_id.label("entity_id"), household_id.label("household_id"), data.label("data"))


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

    def per_household(self) -> list[SyncEntity]:
        return [e for e in self._entities.values() if e.per_household]

    def values(self, settings: Settings) -> dict[str, Any]:
        """The bind values of every entity's documents (``SyncEntity.values``)."""
        values: dict[str, Any] = {}
        for entity in self._entities.values():
            if entity.values is not None:
                values |= entity.values(settings)
        return values

    def in_snapshot_order(self) -> list[SyncEntity]:
        return sorted(self._entities.values(), key=lambda e: e.name != "household")

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
