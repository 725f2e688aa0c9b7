"""``sync``: one page of what changed in the caller's caseload since their position.

* Caseload = ``access.caseload`` (own teams; confidential only as coordinator or assignee; never
  break-glass-only access, which must not leave copies on a phone).
* Upserts carry the current state of each changed object, the documents of the sync registry of the
  wiring (``app.bootstrap``), built by PostgreSQL; objects that no longer exist become tombstones.
  A per-household entity (the worklist, derived from the household's objects) goes again with every
  change of its household.
* An access change (handover, assignment, confidentiality) or a household deletion in range:
  households now in the caseload are sent whole (every registered entity's documents);
  households that left it get one ``household`` tombstone, but only for callers who were in the
  audience before (so other teams never learn a household id).
* The caller's team membership is part of the position; when it differs, the answer is
  ``reset: true`` and a fresh full sync starts. So it is when the purge removed change rows the
  cursor had not seen (its watermark is at or below the sync horizon, see app/domain/retention).

One access-log row per household whose data the page carries (action ``sync``); one without a
household when the page carries none. A page is three statements whatever it holds (where the caller
stands; the caseload's next households or change rows; the documents with their access-log rows),
each on its own: no transaction, no Python object per document.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from app.domain.documents import api_json
from app.domain.errors import FieldError, ValidationFailed
from app.domain.households.access import takes_case_worker_rule
from app.domain.retention.rules import cursor_too_old
from app.domain.sync import repository as repo
from app.domain.sync.rules import Phase, SyncPosition, teams_digest
from app.domain.unit_of_work.access_log import AccessAction, AccessEntry
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import SyncRegistry
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.settings import Settings

CHANGES_PER_HOUSEHOLD_PAGE = 10  # change rows read per page = limit x this


# Tombstones as JSON-ready documents in the shape of ``SyncTombstone``.
Document = dict[str, Any]
# Of each entity (by name), the objects a page wants (id: household id).
Wanted = dict[str, dict[uuid.UUID, uuid.UUID]]


@dataclass
class SyncBatch:
    position: SyncPosition
    has_more: bool
    reset: bool = False
    upserts: bytes = b"[]"  # a JSON array of ``SyncUpsert`` objects, made by PostgreSQL
    tombstones: list[Document] = field(default_factory=list)


def _tombstone(entity: str, entity_id: uuid.UUID, household_id: uuid.UUID) -> Document:
    return {"entity": entity, "id": entity_id, "household_id": household_id}


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed([FieldError(("query", "cursor"), "The cursor is not valid.", "cursor_invalid")])


async def sync(
    uow: UnitOfWork, principal: Principal, position: SyncPosition | None, *, limit: int, settings: Settings
) -> SyncBatch:
    worker_id = principal.worker_id
    if worker_id is None or not takes_case_worker_rule(principal):  # only case roles hold cases:read
        raise _invalid_cursor()
    if position is not None and position.worker_id != worker_id:
        raise _invalid_cursor()
    standing = await uow.fetch_one(repo.STANDING, {"worker_id": worker_id})
    team_ids: list[uuid.UUID] = list(standing["teams"])
    digest = teams_digest(team_ids)
    # Reset when the caseload was redrawn, or when a purge removed changes the cursor had not seen yet.
    reset = position is not None and (
        position.teams != digest or cursor_too_old(position.watermark, standing["horizon"])
    )
    if position is None or reset:
        position = SyncPosition(worker_id, digest, Phase.full, int(standing["watermark"]))
    # One entry per household whose data the page carries: each household's log shows the sync.
    entry = uow.log(principal, resource="household", action=AccessAction.sync)
    page = _Page(uow, uow.wiring.sync, entry, worker_id, uow.wiring.sync.values(settings))
    if position.phase is Phase.full:
        batch = await page.full(position, limit)
    else:
        upper = position.upper if position.upper is not None else int(standing["watermark"])
        batch = await page.changes(position, team_ids, upper, limit)
    batch.reset = reset
    return batch


@dataclass
class _Page:
    """One page of sync for one worker: its statements and the documents they carry."""

    uow: UnitOfWork
    registry: SyncRegistry
    entry: AccessEntry
    worker_id: uuid.UUID
    values: dict[str, Any]  # what the entities' documents need besides the page's own (the settings')

    async def full(self, position: SyncPosition, limit: int) -> SyncBatch:
        """The next households of the caseload, by id, whole."""
        after = position.after_household
        statement = repo.CASELOAD_FIRST if after is None else repo.CASELOAD_NEXT
        values = {"worker_id": self.worker_id, "limit": limit + 1, "after": after}
        ids = [row["id"] for row in await self.uow.fetch_all(statement, values)]
        has_more = len(ids) > limit
        ids = ids[:limit]
        following = position.next_full_page(ids[-1]) if has_more else position.start_changes()
        batch = SyncBatch(following, has_more)
        batch.upserts, _ = await self.documents({}, ids)
        return batch

    async def changes(
        self, position: SyncPosition, team_ids: list[uuid.UUID], upper: int, limit: int
    ) -> SyncBatch:
        """The next change rows of the range ``[watermark, upper)``, as upserts and tombstones."""
        page = limit * CHANGES_PER_HOUSEHOLD_PAGE
        values = {
            "worker_id": self.worker_id,
            "team_ids": team_ids,
            "from_txid": position.watermark,
            "to_txid": upper,
            "after_seq": position.after_seq,
            "limit": page + 1,
        }
        rows = await self.uow.fetch_all(repo.CHANGES, values)
        has_more = len(rows) > page
        rows = rows[:page]
        following = (
            position.next_changes_page(upper, rows[-1]["seq"]) if has_more else position.range_done(upper)
        )
        batch = SyncBatch(following, has_more)
        visible = {r["household_id"] for r in rows if r["visible"]}
        redrawn = {
            r["household_id"]
            for r in rows
            if r["op"] == ChangeOp.access or (r["entity"] == "household" and r["op"] == ChangeOp.delete)
        }
        # A household that entered the caseload goes whole; one that left it, as one tombstone.
        whole = sorted(redrawn & visible)
        batch.tombstones = [_tombstone("household", h, h) for h in sorted(redrawn - visible)]
        wanted: Wanted = defaultdict(dict)
        for r in rows:
            household = r["household_id"]
            # An entity the registry does not list is never recorded (a test holds the code to it).
            known = self.registry.get(r["entity"]) is not None
            if r["op"] != ChangeOp.access and household in visible and household not in whole and known:
                wanted[r["entity"]][r["entity_id"]] = household
                # Derived from the household's objects: sent again with any change of them.
                for derived in self.registry.per_household():
                    wanted[derived.name][household] = household
        batch.upserts, found = await self.documents(wanted, whole)
        batch.tombstones += [
            _tombstone(name, i, h)
            for name, ids in wanted.items()
            for i, h in ids.items()
            if (name, i) not in found
        ]
        return batch

    async def documents(
        self, wanted: Wanted, whole: list[uuid.UUID]
    ) -> tuple[bytes, set[tuple[str, uuid.UUID]]]:
        """The upserts of the ``wanted`` objects and of every object of the ``whole`` households, as
        a JSON array, and which (entity, id) were found; the access-log entries with them."""
        values = {
            **self.values,
            **self.entry.params(),
            **repo.wanted_values(self.registry, {name: list(ids) for name, ids in wanted.items()}),
            "whole": whole,
        }
        found = await self.uow.fetch_one(repo.documents(self.registry), values)
        self.uow.written_by_statement(self.entry)
        return api_json(str(found["upserts"])), set(zip(found["entities"], found["ids"], strict=True))
