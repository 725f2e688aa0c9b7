"""Where a phone stands in its sync, independent of HTTP (the router signs it into an opaque cursor).

Two phases: ``full`` walks the caseload by household id (a snapshot taken with watermark W); then
``changes`` reads the change feed for transaction ids in ``[watermark, upper)``. ``upper`` is frozen
while a range is paged (``after_seq``), so the set being paged cannot change under concurrent writes;
when the range is done the next one starts at ``upper``. Nothing below a watermark is still running,
so no commit is ever skipped (changes may be delivered twice; applying an upsert twice is harmless).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    full = "full"
    changes = "changes"


def teams_digest(team_ids: Iterable[uuid.UUID]) -> str:
    """A short fingerprint of a team membership; a different one means the caseload was redrawn."""
    joined = ",".join(sorted(str(t) for t in team_ids))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SyncPosition:
    worker_id: uuid.UUID
    teams: str  # teams_digest when the sync started
    phase: Phase
    watermark: int
    upper: int | None = None
    after_seq: int = 0
    after_household: uuid.UUID | None = None

    def to_key(self) -> list[Any]:
        return [
            1,
            str(self.worker_id),
            self.teams,
            str(self.phase),
            self.watermark,
            self.upper,
            self.after_seq,
            str(self.after_household) if self.after_household else None,
        ]

    @classmethod
    def from_key(cls, key: list[Any]) -> SyncPosition | None:
        try:
            version, worker, teams, phase, watermark, upper, after_seq, after_household = key
            if version != 1:
                return None
            return cls(
                worker_id=uuid.UUID(worker),
                teams=str(teams),
                phase=Phase(phase),
                watermark=int(watermark),
                upper=int(upper) if upper is not None else None,
                after_seq=int(after_seq),
                after_household=uuid.UUID(after_household) if after_household else None,
            )
        except (ValueError, TypeError):
            return None

    def next_full_page(self, last_household: uuid.UUID) -> SyncPosition:
        return replace(self, after_household=last_household)

    def start_changes(self) -> SyncPosition:
        """After the snapshot: changes from its watermark on."""
        return replace(self, phase=Phase.changes, upper=None, after_seq=0, after_household=None)

    def next_changes_page(self, upper: int, last_seq: int) -> SyncPosition:
        return replace(self, upper=upper, after_seq=last_seq)

    def range_done(self, upper: int) -> SyncPosition:
        return replace(self, watermark=upper, upper=None, after_seq=0)
