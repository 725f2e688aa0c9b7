"""Contact moments: one quick POST from the app (kind, when, minutes, a short note), and the list."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.audit import service as audit
from app.domain.audit.models import AccessAction
from app.domain.changes.service import record_change
from app.domain.households import repository as repo
from app.domain.households.access import get_visible
from app.domain.households.models import ContactMoment
from app.domain.households.rules import ensure_open
from app.domain.households.schemas import ContactCreate, ContactRead
from app.security.principal import Principal

RESOURCE = "contact_moment"


async def list_contacts(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[ContactRead]:
    await get_visible(session, principal, household_id, resource=RESOURCE, action=AccessAction.list)
    rows = await repo.contact_rows(
        session, [col(ContactMoment.household_id) == household_id], limit=limit, after=after
    )
    return [ContactRead.model_validate(dict(r)) for r in rows]


async def create_contact(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, data: ContactCreate
) -> ContactRead:
    household = await get_visible(
        session, principal, household_id, resource=RESOURCE, action=AccessAction.create
    )
    ensure_open(household.status)
    contact = ContactMoment(
        household_id=household_id,
        worker_id=principal.worker_id,
        kind=str(data.kind),
        occurred_at=data.occurred_at,
        minutes=data.minutes,
        note=data.note or None,
    )
    session.add(contact)
    await session.flush()
    audit.amend_last(session, resource_id=contact.id)
    await record_change(session, household_id=household_id, entity=RESOURCE, entity_id=contact.id)
    return ContactRead.model_validate(contact, from_attributes=True)
