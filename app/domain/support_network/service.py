"""Network-map use cases: the access rule, minimal data, If-Match, and a change record for sync."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from app.domain.assessments.casefile import null_errors, reject
from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, NotFound
from app.domain.households.access import get_visible
from app.domain.households.case_write import CaseInsert, CaseRemoval, CaseUpdate
from app.domain.households.models import Household
from app.domain.support_network import repository as repo
from app.domain.support_network.models import NetworkPerson
from app.domain.support_network.rules import label_is_minimal, unique_in_order
from app.domain.support_network.schemas import NetworkPersonCreate, NetworkPersonRead, NetworkPersonUpdate
from app.domain.support_network.sync_and_export import ENTITY, to_read
from app.domain.unit_of_work.access_log import AccessAction, AccessEntry
from app.domain.unit_of_work.events import NetworkPersonRemoving
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "network_person"


def _label_errors(label: str) -> list[FieldError]:
    """The label rule, on the label as stored (whitespace runs made one space)."""
    if label_is_minimal(label):
        return []
    return [
        FieldError(
            ("body", "label"),
            "Use a first name or a role only: no surname, numbers or contact details.",
            "label_not_minimal",
        )
    ]


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


# One statement per write (households.case_write): the access check, the open file, the version, the
# person, the change row and the access-log entry together. The label rule is checked here, before
# the statement, and answered after what the statement found (404, 412, 409 first).
CREATE = CaseInsert(
    NetworkPerson,
    (
        "id", "household_id", "label", "relation", "support_kinds", "frequency", "reliability",
        "engaged", "version", "created_at", "updated_at",
    ),
    entity=ENTITY,
)  # fmt: skip
REMOVE = CaseRemoval(NetworkPerson, entity=ENTITY)


@lru_cache(maxsize=64)
def _change(columns: frozenset[str]) -> CaseUpdate:
    """The update of these columns (a PATCH sets only what it sends)."""
    return CaseUpdate(NetworkPerson, sorted(columns), entity=ENTITY)


def _entry(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    action: AccessAction,
) -> AccessEntry:
    return uow.log(
        principal, resource=RESOURCE, action=action, household_id=household_id, resource_id=person_id
    )


async def create(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: NetworkPersonCreate
) -> NetworkPersonRead:
    new_id = uuid.uuid4()
    label = " ".join(data.label.split())
    now = utcnow()
    row = {
        "id": new_id,
        "household_id": household_id,
        "label": label,
        "relation": str(data.relation),
        "support_kinds": [str(kind) for kind in unique_in_order(data.support_kinds)],
        "frequency": str(data.frequency) if data.frequency is not None else None,
        "reliability": data.reliability,
        "engaged": data.engaged,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    entry = _entry(uow, principal, household_id, new_id, AccessAction.create)
    errors = _label_errors(label)
    outcome = await CREATE.run(uow, principal, entry, row, valid=not errors)
    outcome.raise_unless_written(rules=lambda: reject(errors))
    return NetworkPersonRead.model_validate(row)


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
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if data.label is not None:
        changes["label"] = " ".join(data.label.split())
    if data.support_kinds is not None:
        changes["support_kinds"] = unique_in_order(data.support_kinds)
    changes = {name: _plain(value) for name, value in changes.items()} | {"updated_at": utcnow()}
    # A null for a required field is answered first, then the label (as they always were).
    errors = null_errors(data, "label", "relation", "support_kinds", "engaged")
    if not errors and "label" in changes:
        errors = _label_errors(changes["label"])
    entry = _entry(uow, principal, household_id, person_id, AccessAction.update)
    outcome = await _change(frozenset(changes)).run(
        uow, principal, entry, household_id, person_id, expected_version, changes, valid=not errors
    )
    outcome.raise_unless_written(
        RESOURCE, expected_version, person_id, version_first=True, rules=lambda: reject(errors)
    )
    assert outcome.row is not None
    return NetworkPersonRead.model_validate(outcome.row)


def _plain(value: Any) -> Any:
    """A value as the driver takes it (enum members as their text, in lists too)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, StrEnum) else value


async def delete(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    expected_version: ExpectedVersion,
) -> None:
    """Remove a person from the map. What links to them hears of it first, in this transaction, and
    may refuse (the plans context refuses while they perform an open action of the active plan, and
    records a change of every plan version whose actions lose the link): so the person is locked and
    the removal's own checks answered before the handlers run, then removed in one statement."""
    await uow.begin()
    entry = _entry(uow, principal, household_id, person_id, AccessAction.delete)
    found = await REMOVE.lock(uow, principal, entry, household_id, person_id, expected_version)
    found.raise_unless_written(RESOURCE, expected_version, person_id, version_first=True)
    await uow.publish(NetworkPersonRemoving(household_id, person_id))
    outcome = await REMOVE.run(uow, principal, entry, household_id, person_id, expected_version)
    outcome.raise_unless_written(RESOURCE, expected_version, person_id, version_first=True)
