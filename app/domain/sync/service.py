"""``sync``: one page of what changed in the caller's caseload since their position.

* Caseload = ``access.caseload`` (own teams; confidential only as coordinator or assignee; never
  break-glass-only access, which must not leave copies on a phone).
* Upserts carry the current state of each changed object, loaded through the sync registry of the
  wiring (``app.bootstrap``); objects that no longer exist become tombstones. Entities that follow
  their household (the worklist) are reloaded for every household with a change in the page.
* An access change (handover, assignment, confidentiality) or a household deletion in range:
  households now in the caseload are sent whole (every registered entity, ``by_households``);
  households that left it get one ``household`` tombstone, but only for callers who were in the
  audience before (so other teams never learn a household id).
* The caller's team membership is part of the position; when it differs, the answer is
  ``reset: true`` and a fresh full sync starts. So it is when the purge removed change rows the
  cursor had not seen (its watermark is at or below the sync horizon, see app/domain/retention).

One access-log row per household whose data the page carries (action ``sync``); one without a
household when the page carries none.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import FieldError, ValidationFailed
from app.domain.households import repository as households_repo
from app.domain.households.access import caseload
from app.domain.retention import repository as retention
from app.domain.retention.rules import cursor_too_old
from app.domain.sync import repository as repo
from app.domain.sync.rules import Phase, SyncPosition, teams_digest
from app.domain.unit_of_work.access_log import AccessAction, Shown
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import SyncRecord, SyncRegistry
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

CHANGES_PER_HOUSEHOLD_PAGE = 10  # change rows read per page = limit x this


# Upserts and tombstones as JSON-ready documents in the shape of ``SyncUpsert``/``SyncTombstone``:
# a page holds hundreds, and the route sends them as they are (orjson), without a pydantic round.
Document = dict[str, Any]


@dataclass
class SyncBatch:
    position: SyncPosition
    has_more: bool
    reset: bool = False
    upserts: list[Document] = field(default_factory=list)
    tombstones: list[Document] = field(default_factory=list)


def _tombstone(entity: str, entity_id: uuid.UUID, household_id: uuid.UUID) -> Document:
    return {"entity": entity, "id": entity_id, "household_id": household_id}


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed([FieldError(("query", "cursor"), "The cursor is not valid.", "cursor_invalid")])


async def sync(
    uow: UnitOfWork, principal: Principal, position: SyncPosition | None, *, limit: int
) -> SyncBatch:
    session, registry = uow.session, uow.wiring.sync
    worker_id = principal.worker_id
    if worker_id is None:  # only case roles hold cases:read; be explicit anyway
        raise _invalid_cursor()
    team_ids = sorted(await households_repo.teams_of_worker(session, worker_id))
    digest = teams_digest(team_ids)
    if position is not None and position.worker_id != worker_id:
        raise _invalid_cursor()
    # Reset when the caseload was redrawn, or when a purge removed changes the cursor had not seen yet.
    reset = position is not None and (
        position.teams != digest
        or cursor_too_old(position.watermark, await retention.change_feed_horizon(session))
    )
    if position is None or reset:
        position = SyncPosition(worker_id, digest, Phase.full, await repo.watermark(session))
    if position.phase is Phase.full:
        batch = await _full_page(session, registry, principal, position, limit)
    else:
        batch = await _changes_page(session, registry, principal, position, team_ids, limit)
    batch.reset = reset
    # One entry per household whose data the page carries: each household's log shows the sync.
    shown = sorted({document["household_id"] for document in batch.upserts})
    uow.log_each(principal, [Shown(h) for h in shown], resource="household", action=AccessAction.sync)
    return batch


async def _snapshot(
    session: AsyncSession, registry: SyncRegistry, household_ids: list[uuid.UUID]
) -> list[Document]:
    """Every registered entity of these households (one statement per entity kind)."""
    if not household_ids:
        return []
    upserts: list[Document] = []
    for entity in registry.in_snapshot_order():
        upserts += _upserts(entity.name, await entity.by_households(session, household_ids))
    return upserts


def _upserts(entity: str, records: Iterable[SyncRecord]) -> list[Document]:
    return [
        {"entity": entity, "id": r.entity_id, "household_id": r.household_id, "data": r.data} for r in records
    ]


async def _full_page(
    session: AsyncSession, registry: SyncRegistry, principal: Principal, position: SyncPosition, limit: int
) -> SyncBatch:
    ids = await repo.caseload_ids(
        session, caseload(principal), after=position.after_household, limit=limit + 1
    )
    has_more = len(ids) > limit
    ids = ids[:limit]
    upserts = await _snapshot(session, registry, ids)
    following = position.next_full_page(ids[-1]) if has_more else position.start_changes()
    return SyncBatch(following, has_more, upserts=upserts)


async def _changes_page(
    session: AsyncSession,
    registry: SyncRegistry,
    principal: Principal,
    position: SyncPosition,
    team_ids: list[uuid.UUID],
    limit: int,
) -> SyncBatch:
    upper = position.upper if position.upper is not None else await repo.watermark(session)
    page = limit * CHANGES_PER_HOUSEHOLD_PAGE
    assert principal.worker_id is not None
    rows = await repo.changes(
        session,
        caseload(principal),
        worker_id=principal.worker_id,
        team_ids=team_ids,
        from_txid=position.watermark,
        to_txid=upper,
        after_seq=position.after_seq,
        limit=page + 1,
    )
    has_more = len(rows) > page
    rows = rows[:page]
    following = position.next_changes_page(upper, rows[-1].seq) if has_more else position.range_done(upper)
    batch = SyncBatch(following, has_more)
    if rows:
        await _apply_changes(session, registry, rows, batch)
    return batch


async def _apply_changes(
    session: AsyncSession, registry: SyncRegistry, rows: list[repo.Change], batch: SyncBatch
) -> None:
    visible = {r.household_id for r in rows if r.visible}
    redrawn = {
        r.household_id
        for r in rows
        if r.op == ChangeOp.access or (r.entity == "household" and r.op == ChangeOp.delete)
    }
    whole = sorted(redrawn & visible)
    batch.upserts = await _snapshot(session, registry, whole)
    batch.tombstones = [_tombstone("household", h, h) for h in sorted(redrawn - visible)]
    wanted: dict[str, dict[uuid.UUID, uuid.UUID]] = defaultdict(dict)
    for r in rows:
        if r.op != ChangeOp.access and r.household_id in visible and r.household_id not in whole:
            wanted[r.entity][r.entity_id] = r.household_id
            for derived in registry.following_households():  # e.g. the worklist: the file changed
                wanted[derived.name][r.household_id] = r.household_id
    for name, ids in wanted.items():
        await _load_changed(session, registry, name, ids, batch)


async def _load_changed(
    session: AsyncSession,
    registry: SyncRegistry,
    name: str,
    ids: dict[uuid.UUID, uuid.UUID],
    batch: SyncBatch,
) -> None:
    entity = registry.get(name)
    if entity is None:  # only a change the wiring does not list (a test holds the code to the list)
        return
    records = [r for r in await entity.by_ids(session, list(ids)) if r.entity_id in ids]
    batch.upserts += _upserts(name, records)
    found = {r.entity_id for r in records}
    batch.tombstones += [_tombstone(name, i, h) for i, h in ids.items() if i not in found]
