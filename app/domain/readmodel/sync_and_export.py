"""The read models in offline sync: each household's worklist items (entity ``worklist``, one document
per household, its id the household's), so a phone lists what is due by its own calendar, offline.

The document is derived from the rest of the file (plans, contacts, assessments, referrals,
consents), so nothing records it in the change feed: sync reloads it whenever anything of its
household changed (``follows_household``). Nothing of its own goes into the subject-access export
(the facts it is made of are there). Listed in ``app.bootstrap``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.assessments.rules import local_today
from app.domain.base import utcnow
from app.domain.readmodel.worklist import WorklistPolicy, household_schedule
from app.domain.unit_of_work.registries import ExportSection, SyncEntity, SyncRecord
from app.settings import get_settings

ENTITY = "worklist"


async def _schedules(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    # A loader gets no settings: the thresholds are the process's own Settings (the ones the app was
    # made with, read once from the environment).
    policy = WorklistPolicy.from_settings(get_settings())
    rows = await household_schedule(session, ids, policy, local_today(utcnow()))
    return [
        SyncRecord(
            household_id, household_id, {"household_id": str(household_id), "items": orjson.loads(items)}
        )
        for household_id, items in rows
    ]


SYNC_ENTITIES = (SyncEntity(ENTITY, _schedules, _schedules, follows_household=True),)
EXPORT_SECTIONS: tuple[ExportSection, ...] = ()
