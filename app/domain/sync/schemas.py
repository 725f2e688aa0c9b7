"""What ``GET /api/v1/sync`` answers."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field


class SyncUpsert(BaseModel):
    entity: str = Field(examples=["member"])
    id: uuid.UUID
    household_id: uuid.UUID
    data: dict[str, Any] = Field(description="The object's current state (the same shape as its REST read).")


class SyncTombstone(BaseModel):
    entity: str = Field(
        examples=["household"],
        description="Delete this object; for entity 'household', everything of that household.",
    )
    id: uuid.UUID
    household_id: uuid.UUID


class SyncPage(BaseModel):
    reset: bool = Field(
        description="Wipe all local case data before applying this page (your teams changed, or the "
        "cursor was too old)."
    )
    upserts: list[SyncUpsert]
    tombstones: list[SyncTombstone]
    cursor: str = Field(description="Pass as `cursor` next time (also when has_more is false).")
    has_more: bool = Field(description="Call again at once with the new cursor.")
