"""Contact moments: one quick POST from the app (kind, when, minutes, a short note), and the list."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import col

from app.domain.households import repository as repo
from app.domain.households.access import get_visible
from app.domain.households.models import ContactMoment
from app.domain.households.rules import ensure_open
from app.domain.households.schemas import ContactCreate, ContactRead
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.change_feed import ChangeRecord
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


async def create_contact(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: ContactCreate
) -> ContactRead:
    household = await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.create)
    ensure_open(household.status)
    contact = await add_contact(uow, principal, household_id, data)
    uow.last_entry.resource_id = contact.id
    return contact


async def add_contact(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: ContactCreate
) -> ContactRead:
    """Write a contact moment of a household the caller's work has opened already (its access entry
    is the caller's)."""
    contact = ContactMoment(
        household_id=household_id,
        worker_id=principal.worker_id,
        kind=str(data.kind),
        occurred_at=data.occurred_at,
        minutes=data.minutes,
        note=data.note or None,
    )
    uow.session.add(contact)
    await uow.session.flush()
    uow.record_change(ChangeRecord(household_id, RESOURCE, contact.id))
    return ContactRead.model_validate(contact, from_attributes=True)
