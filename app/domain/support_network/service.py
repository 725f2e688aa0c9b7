"""Network-map use cases: the access rule, minimal data, If-Match, and a change record for sync."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.assessments.casefile import (
    parse_cursor_key,
    reject_nulls,
    touch,
    uuid_of,
)
from app.domain.concurrency import Precondition
from app.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.models import Household
from app.domain.households.rules import ensure_open
from app.domain.support_network import repository as repo
from app.domain.support_network.models import NetworkPerson
from app.domain.support_network.rules import label_is_minimal, unique_in_order
from app.domain.support_network.schemas import NetworkPersonCreate, NetworkPersonRead, NetworkPersonUpdate
from app.domain.support_network.sync_and_export import ENTITY, to_read
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.legacy import record_change
from app.security.principal import Principal

RESOURCE = "network_person"
PLAN_ENTITY = "plan"  # the plans context's aggregate (its actions may link a person)


def _check_label(label: str) -> str:
    cleaned = " ".join(label.split())
    if not label_is_minimal(cleaned):
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "label"),
                    "Use a first name or a role only: no surname, numbers or contact details.",
                    "label_not_minimal",
                )
            ]
        )
    return cleaned


async def _open(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    action: AccessAction,
    person_id: uuid.UUID | None = None,
) -> Household:
    return await get_visible(
        session, principal, household_id, resource=RESOURCE, action=action, resource_id=person_id
    )


async def _existing(
    session: AsyncSession, household_id: uuid.UUID, person_id: uuid.UUID, *, for_update: bool = False
) -> NetworkPerson:
    person = await repo.get(session, household_id, person_id, for_update=for_update)
    if person is None:
        raise NotFound(RESOURCE)
    return person


async def create(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, data: NetworkPersonCreate
) -> NetworkPersonRead:
    new_id = uuid.uuid4()
    ensure_open((await _open(session, principal, household_id, AccessAction.create, new_id)).status)
    person = NetworkPerson(
        id=new_id,
        household_id=household_id,
        label=_check_label(data.label),
        relation=data.relation,
        support_kinds=unique_in_order(data.support_kinds),
        frequency=data.frequency,
        reliability=data.reliability,
        engaged=data.engaged,
    )
    session.add(person)
    await session.flush()
    await record_change(session, household_id=household_id, entity=ENTITY, entity_id=new_id)
    return to_read(person)


async def read(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, person_id: uuid.UUID
) -> NetworkPersonRead:
    await _open(session, principal, household_id, AccessAction.read, person_id)
    return to_read(await _existing(session, household_id, person_id))


async def list_page(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    after: list[Any] | None,
    limit: int,
) -> tuple[list[NetworkPersonRead], list[Any] | None]:
    await _open(session, principal, household_id, AccessAction.list)
    key = parse_cursor_key(after, datetime.fromisoformat, uuid_of)
    rows = await repo.page(session, household_id, after=key, limit=limit)
    last = rows[-1] if len(rows) == limit else None
    return [to_read(p) for p in rows], ([last.created_at.isoformat(), str(last.id)] if last else None)


async def update(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    data: NetworkPersonUpdate,
    precondition: Precondition,
) -> NetworkPersonRead:
    household = await _open(session, principal, household_id, AccessAction.update, person_id)
    person = await _existing(session, household_id, person_id, for_update=True)
    precondition(person.id, person.version)
    ensure_open(household.status)
    reject_nulls(data, "label", "relation", "support_kinds", "engaged")
    changes = data.model_dump(exclude_unset=True)
    if data.label is not None:
        changes["label"] = _check_label(data.label)
    if "support_kinds" in changes:
        changes["support_kinds"] = unique_in_order(changes["support_kinds"])
    for name, value in changes.items():
        setattr(person, name, value)
    touch(person)
    await session.flush()
    await record_change(session, household_id=household_id, entity=ENTITY, entity_id=person_id)
    return to_read(person)


async def delete(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    precondition: Precondition,
) -> None:
    """Remove a person from the map. Refused while they perform an open action of the active plan
    (change that action first); links from finished actions and older plan versions are cleared."""
    household = await _open(session, principal, household_id, AccessAction.delete, person_id)
    person = await _existing(session, household_id, person_id, for_update=True)
    precondition(person.id, person.version)
    ensure_open(household.status)
    plan_ids, in_open_action = await repo.plans_linking(session, person_id)
    if in_open_action:
        raise Conflict(
            "This person performs an open action of the active plan; reassign it first.",
            rule="network_person_has_open_actions",
        )
    await session.delete(person)
    await session.flush()
    await record_change(
        session, household_id=household_id, entity=ENTITY, entity_id=person_id, op=ChangeOp.delete
    )
    for plan_id in plan_ids:  # their actions lost the link (ON DELETE SET NULL)
        await record_change(session, household_id=household_id, entity=PLAN_ENTITY, entity_id=plan_id)
