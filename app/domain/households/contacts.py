"""Contact moments: one quick POST from the app (kind, when, minutes, a short note), and the list."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import col

from app.domain.base import utcnow
from app.domain.households import repository as repo
from app.domain.households.access import get_visible
from app.domain.households.case_write import CaseInsert
from app.domain.households.models import ContactMoment
from app.domain.households.schemas import ContactCreate, ContactRead
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "contact_moment"


async def list_contacts(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[ContactRead]:
    await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.list)
    rows = await repo.contact_rows(
        uow.session, [col(ContactMoment.household_id) == household_id], limit=limit, after=after
    )
    return [ContactRead.model_validate(dict(r)) for r in rows]


CREATE = CaseInsert(
    ContactMoment,
    ("id", "household_id", "worker_id", "kind", "occurred_at", "minutes", "note", "created_at"),
    entity=RESOURCE,
)


async def create_contact(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: ContactCreate
) -> ContactRead:
    """One statement: the access check, the open file, the contact, its change row and its entry. The
    quick intake's first contact is written the same way, in the registration's transaction (where
    the statement sees the household the registration just wrote)."""
    contact_id = uuid.uuid4()
    row = {
        "id": contact_id,
        "household_id": household_id,
        "worker_id": principal.worker_id,
        "kind": str(data.kind),
        "occurred_at": data.occurred_at,
        "minutes": data.minutes,
        "note": data.note or None,
        "created_at": utcnow(),
    }
    entry = uow.log(
        principal,
        resource=RESOURCE,
        action=AccessAction.create,
        household_id=household_id,
        resource_id=contact_id,
    )
    outcome = await CREATE.run(uow, principal, entry, row)
    outcome.raise_unless_written("household")
    return ContactRead.model_validate(row)
