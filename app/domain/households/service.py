"""Household use cases: register, list, read, update (lifecycle, address, themes, confidentiality),
search. Every use case logs exactly one access-log row (``get_visible`` or an explicit record) and
answers a hidden household exactly like a missing one. Services never commit.

Members and contact moments live in ``members.py`` and ``contacts.py``; team-level access management
(assignments, handover, break glass) in ``team.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.areas import service as areas
from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from app.domain.households import repository as repo
from app.domain.households import rules
from app.domain.households.access import get_visible, visible_to
from app.domain.households.bsn import BsnProtector
from app.domain.households.contacts import create_contact
from app.domain.households.members import new_member, read_member
from app.domain.households.models import ClosingReason, Household, HouseholdStatus
from app.domain.households.schemas import (
    HouseholdCreate,
    HouseholdCreated,
    HouseholdRead,
    HouseholdSearch,
    HouseholdUpdate,
)
from app.domain.unit_of_work.access_log import AccessAction, Shown
from app.domain.unit_of_work.change_feed import ChangeOp, ChangeRecord
from app.domain.unit_of_work.events import HouseholdClosed
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import Scope

RESOURCE = "household"
T = TypeVar("T")


@dataclass(frozen=True)
class HouseholdFilters:
    status: HouseholdStatus | None = None
    buurt_code: str | None = None
    coordinator_id: uuid.UUID | None = None
    theme: str | None = None
    confidential: bool | None = None

    def given(self) -> dict[str, Any]:
        """The filters set, by name (``repository.household_filter``), with their values."""
        values = {
            "status": str(self.status) if self.status is not None else None,
            "buurt_code": self.buurt_code,
            "coordinator_id": self.coordinator_id,
            "theme": self.theme,
            "confidential": self.confidential,
        }
        return {name: value for name, value in values.items() if value is not None}

    def where(self) -> list[sa.ColumnElement[bool]]:
        return [repo.household_filter(name, value) for name, value in self.given().items()]


def to_read(row: Any) -> HouseholdRead:
    return HouseholdRead.model_validate(dict(row))


def reject_nulls(data: Any, *fields: str) -> None:
    """A PATCH may leave a field out, but may not set a required one to null."""
    errors = [
        FieldError(("body", name), "This field cannot be null.", "null_not_allowed")
        for name in fields
        if name in data.model_fields_set and getattr(data, name) is None
    ]
    if errors:
        raise ValidationFailed(errors)


async def _check_themes(session: AsyncSession, codes: Sequence[str]) -> list[str]:
    unique = sorted(set(codes))
    known = await repo.known_themes(session, unique) if unique else set()
    errors = [
        FieldError(("body", "themes", i), "This theme is not on the list.", "unknown_theme")
        for i, code in enumerate(codes)
        if code not in known
    ]
    if errors:
        raise ValidationFailed(errors)
    return unique


async def _team_for_new_household(
    session: AsyncSession,
    principal: Principal,
    requested: uuid.UUID | None,
    covering: uuid.UUID | None,
    place: tuple[str, ...] = ("body", "buurt_code"),
) -> uuid.UUID:
    """The caller's team given in the request, else the team covering the buurt (if it is theirs);
    ``place`` is where the buurt came from (the code given, or the address)."""
    assert principal.worker_id is not None
    own = await repo.teams_of_worker(session, principal.worker_id)
    if requested is not None:
        if requested not in own:
            raise ValidationFailed(
                [FieldError(("body", "team_id"), "You can only register for your own team.", "not_own_team")]
            )
        return requested
    if covering is None:
        raise ValidationFailed(
            [FieldError(place, "No team covers this buurt; give team_id.", "buurt_not_covered")]
        )
    if covering not in own:
        raise ValidationFailed(
            [
                FieldError(
                    place,
                    "Another team covers this buurt; give one of your teams as team_id.",
                    "buurt_of_other_team",
                )
            ]
        )
    return covering


def _require_worker(principal: Principal) -> uuid.UUID:
    if principal.worker_id is None:
        raise Forbidden("Only team workers keep case files.", rule="not_a_worker")
    return principal.worker_id


async def create_household(
    uow: UnitOfWork, principal: Principal, data: HouseholdCreate, protector: BsnProtector
) -> HouseholdCreated:
    """Register a household by its address (the buurt follows from the postcode table unless a code is
    given); the caller becomes its coordinator (a team lead can hand it over). With a first contact
    moment the file starts at intake, with it and its note in the same transaction."""
    worker_id = _require_worker(principal)
    household_id = uuid.uuid4()
    entry = uow.log(principal, resource=RESOURCE, action=AccessAction.create)
    session = uow.session
    place = await areas.place_of(
        session, buurt_code=data.buurt_code, postcode=data.postcode, house_number=data.house_number
    )
    origin = ("body", "buurt_code" if data.buurt_code is not None else "postcode")
    team_id = await _team_for_new_household(session, principal, data.team_id, place.team_id, origin)
    themes = await _check_themes(session, data.themes)
    household = Household(
        id=household_id,
        reference=rules.new_reference(),
        team_id=team_id,
        buurt_id=place.buurt_id,
        postcode=data.postcode,
        house_number=data.house_number,
        house_number_addition=data.house_number_addition,
        coordinator_id=worker_id,
        status=HouseholdStatus.intake if data.first_contact is not None else HouseholdStatus.registered,
        confidential=data.confidential,
    )
    session.add(household)
    members = [new_member(household_id, m, protector) for m in data.members]
    session.add_all(members)
    await session.flush()
    await repo.replace_themes(session, household_id, themes)
    uow.record_change(ChangeRecord(household_id, RESOURCE, household_id))
    for member in members:
        uow.record_change(ChangeRecord(household_id, "member", member.id))
    first_contact = None
    if data.first_contact is not None:
        first_contact = await create_contact(uow, principal, household_id, data.first_contact)
    entry.household_id = entry.resource_id = household_id
    row = await repo.household_row(session, household_id)
    return HouseholdCreated(
        **to_read(row).model_dump(),
        members=[read_member(m, reveal_with=None) for m in members],
        first_contact=first_contact,
    )


async def list_households(
    uow: UnitOfWork,
    principal: Principal,
    filters: HouseholdFilters,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[HouseholdRead]:
    """The caller's households, newest first, as read models: the same rows the read model's one
    statement answers (``readmodel.household_list``), which the route serves; a test holds the two
    to the same answer."""
    uow.log(principal, resource=RESOURCE, action=AccessAction.list)
    rows = await repo.household_rows(
        uow.session, [visible_to(principal), *filters.where()], limit=limit, after=after
    )
    return [to_read(r) for r in rows]


async def get_household(uow: UnitOfWork, principal: Principal, household_id: uuid.UUID) -> HouseholdRead:
    await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.read)
    row = await repo.household_row(uow.session, household_id)
    if row is None:  # deleted between the two statements
        raise NotFound("household")
    return to_read(row)


async def search_households(
    uow: UnitOfWork, principal: Principal, data: HouseholdSearch, protector: BsnProtector
) -> list[HouseholdRead]:
    """Find households by BSN (blind index), reference or address, among those the caller may see.
    Each household found gets its own access-log entry (the resident's log shows who found them)."""
    if data.bsn is not None:
        criterion = repo.has_member_with_bsn_index(protector.index(data.bsn))
    elif data.reference is not None:
        criterion = col(Household.reference) == data.reference.upper()
    else:
        criterion = sa.and_(
            col(Household.postcode) == data.postcode, col(Household.house_number) == data.house_number
        )
    rows = await repo.find_households(uow.session, criterion, [visible_to(principal)])
    uow.log_each(principal, [Shown(r["id"]) for r in rows], resource=RESOURCE, action=AccessAction.search)
    return [to_read(r) for r in rows]


async def former_audience(
    session: AsyncSession, household: Household
) -> tuple[uuid.UUID | None, list[uuid.UUID]]:
    """Who can see the household now, for an access change: (the whole team unless confidential,
    the personally involved workers). Sync turns this into tombstones for those who lose it."""
    workers = await repo.personally_involved_workers(session, household)
    return (None if household.confidential else household.team_id), workers


def record_access_change(
    uow: UnitOfWork, household: Household, former: tuple[uuid.UUID | None, list[uuid.UUID]]
) -> None:
    uow.record_change(
        ChangeRecord(household.id, RESOURCE, household.id, ChangeOp.access, former[0], former[1])
    )


def touch(obj: Any) -> None:
    obj.version += 1
    obj.updated_at = utcnow()


async def _apply_status(
    uow: UnitOfWork, household: Household, data: HouseholdUpdate, principal: Principal
) -> None:
    current = HouseholdStatus(household.status)
    target = data.status or current
    rules.check_transition(
        current, target, closing_reason=data.closing_reason, may_reopen=principal.has(Scope.cases_assign)
    )
    if target is current:
        return
    set_status(household, target, closing_reason=data.closing_reason)
    if target is HouseholdStatus.closed:
        await uow.publish(HouseholdClosed(household.id))


def set_status(
    household: Household, target: HouseholdStatus, *, closing_reason: ClosingReason | None = None
) -> None:
    """Move the household to ``target`` (the lifecycle checked by the caller) with what goes with it:
    the closing reason and time, and the start of an aftercare period."""
    current = HouseholdStatus(household.status)
    household.status = str(target)
    if target is HouseholdStatus.closed:
        household.closing_reason = str(closing_reason)
        household.closed_at = utcnow()
    elif current is HouseholdStatus.closed:
        household.closing_reason = None
        household.closed_at = None
    household.aftercare_since = utcnow() if target is HouseholdStatus.aftercare else None


async def update_household(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    data: HouseholdUpdate,
    expected_version: ExpectedVersion,
) -> HouseholdRead:
    household = await get_visible(
        uow, principal, household_id, resource=RESOURCE, action=AccessAction.update, for_update=True
    )
    expected_version.check(household.id, household.version)
    session = uow.session
    reopening = household.status == HouseholdStatus.closed and data.status not in (
        None,
        HouseholdStatus.closed,
    )
    if not reopening:
        rules.ensure_open(household.status)
    reject_nulls(data, "postcode", "house_number", "buurt_code", "status", "confidential", "themes")
    await _apply_status(uow, household, data, principal)
    moved = {"postcode", "house_number"} & data.model_fields_set
    for name in ("postcode", "house_number", "house_number_addition"):
        if name in data.model_fields_set:
            setattr(household, name, getattr(data, name))
    if data.buurt_code is not None or moved:
        place = await areas.place_of(
            session,
            buurt_code=data.buurt_code,
            postcode=household.postcode,
            house_number=household.house_number,
        )
        household.buurt_id = place.buurt_id
    if data.themes is not None:
        await repo.replace_themes(session, household.id, await _check_themes(session, data.themes))
    if data.confidential is not None and data.confidential != household.confidential:
        await _change_confidentiality(uow, principal, household, data.confidential)
    touch(household)
    await session.flush()
    uow.record_change(ChangeRecord(household.id, RESOURCE, household.id))
    row = await repo.household_row(session, household.id)
    return to_read(row)


async def _change_confidentiality(
    uow: UnitOfWork, principal: Principal, household: Household, confidential: bool
) -> None:
    session = uow.session
    rules.check_confidentiality_change(
        household.confidential, confidential, may_assign=principal.has(Scope.cases_assign)
    )
    former = await former_audience(session, household)
    worker = principal.worker_id
    if confidential and worker is not None and worker not in former[1]:
        # The worker who protects the file keeps it (break-glass access would expire).
        await repo.add_assignment(session, household.id, worker, worker)
    household.confidential = confidential
    if confidential:
        # Self-service goes off with it: the reason a file is protected (violence at home, a threat)
        # is the reason a housemate must not see what comes next. The coordinator may turn it on.
        household.self_service = False
    record_access_change(uow, household, former)
