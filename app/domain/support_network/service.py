"""Network-map use cases: the access rule, minimal data, If-Match, and a change record for sync."""

from __future__ import annotations

import uuid
from datetime import datetime

from app.domain.assessments.casefile import reject_nulls, touch
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.models import Household
from app.domain.households.rules import ensure_open
from app.domain.support_network import repository as repo
from app.domain.support_network.models import NetworkPerson
from app.domain.support_network.rules import label_is_minimal, unique_in_order
from app.domain.support_network.schemas import NetworkPersonCreate, NetworkPersonRead, NetworkPersonUpdate
from app.domain.support_network.sync_and_export import ENTITY, to_read
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.change_feed import ChangeOp, ChangeRecord
from app.domain.unit_of_work.events import NetworkPersonRemoving
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "network_person"


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
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    action: AccessAction,
    person_id: uuid.UUID | None = None,
) -> Household:
    return await get_visible(
        uow, principal, household_id, resource=RESOURCE, action=action, resource_id=person_id
    )


async def _existing(
    uow: UnitOfWork, household_id: uuid.UUID, person_id: uuid.UUID, *, for_update: bool = False
) -> NetworkPerson:
    person = await repo.get(uow.session, household_id, person_id, for_update=for_update)
    if person is None:
        raise NotFound(RESOURCE)
    return person


async def _for_change(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    action: AccessAction,
    expected_version: ExpectedVersion,
) -> NetworkPerson:
    """The person to change, locked, once the caller may see the household and named the version they
    edited; the case file must still be open."""
    household = await _open(uow, principal, household_id, action, person_id)
    person = await _existing(uow, household_id, person_id, for_update=True)
    expected_version.check(person.id, person.version)
    ensure_open(household.status)
    return person


async def create(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: NetworkPersonCreate
) -> NetworkPersonRead:
    new_id = uuid.uuid4()
    ensure_open((await _open(uow, principal, household_id, AccessAction.create, new_id)).status)
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
    uow.session.add(person)
    await uow.session.flush()
    uow.record_change(ChangeRecord(household_id, ENTITY, new_id))
    return to_read(person)


async def read(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, person_id: uuid.UUID
) -> NetworkPersonRead:
    await _open(uow, principal, household_id, AccessAction.read, person_id)
    return to_read(await _existing(uow, household_id, person_id))


async def list_people(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[NetworkPersonRead]:
    """The people on the map in the order they were added (``after``: the (created_at, id) of the
    last one seen)."""
    await _open(uow, principal, household_id, AccessAction.list)
    rows = await repo.page(uow.session, household_id, after=after, limit=limit)
    return [to_read(p) for p in rows]


async def update(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    data: NetworkPersonUpdate,
    expected_version: ExpectedVersion,
) -> NetworkPersonRead:
    person = await _for_change(uow, principal, household_id, person_id, AccessAction.update, expected_version)
    reject_nulls(data, "label", "relation", "support_kinds", "engaged")
    changes = data.model_dump(exclude_unset=True)
    if data.label is not None:
        changes["label"] = _check_label(data.label)
    if "support_kinds" in changes:
        changes["support_kinds"] = unique_in_order(changes["support_kinds"])
    for name, value in changes.items():
        setattr(person, name, value)
    touch(person)
    await uow.session.flush()
    uow.record_change(ChangeRecord(household_id, ENTITY, person_id))
    return to_read(person)


async def delete(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    expected_version: ExpectedVersion,
) -> None:
    """Remove a person from the map. What links to them hears of it first, in this transaction, and
    may refuse (the plans context refuses while they perform an open action of the active plan, and
    records a change of every plan version whose actions lose the link)."""
    person = await _for_change(uow, principal, household_id, person_id, AccessAction.delete, expected_version)
    await uow.publish(NetworkPersonRemoving(household_id, person_id))
    await uow.session.delete(person)
    await uow.session.flush()
    uow.record_change(ChangeRecord(household_id, ENTITY, person_id, ChangeOp.delete))
