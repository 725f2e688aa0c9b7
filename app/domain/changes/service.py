"""Recording changes for sync. Call it in the same transaction as the change itself:

* op ``upsert`` after creating or updating a case object, ``delete`` after deleting one;
* op ``access`` when who may see a household changes, with the audience before the change
  (``households.service.record_access_change`` does this); deleting a whole household (a purge)
  records ``delete`` for entity ``household`` with that audience too.

The entity name must be registered in ``app.domain.sync.registry`` for its upserts to reach phones.
"""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.changes.models import CaseChange, ChangeOp


async def record_change(
    session: AsyncSession,
    *,
    household_id: uuid.UUID,
    entity: str,
    entity_id: uuid.UUID,
    op: ChangeOp = ChangeOp.upsert,
    former_team_id: uuid.UUID | None = None,
    former_worker_ids: list[uuid.UUID] | None = None,
) -> None:
    await session.execute(
        insert(CaseChange).values(
            household_id=household_id,
            entity=entity,
            entity_id=entity_id,
            op=str(op),
            former_team_id=former_team_id,
            former_worker_ids=former_worker_ids,
        )
    )
