"""Household members. The BSN is validated by the schema, stored encrypted with a blind index, and
revealed only on reads by callers holding ``bsn:read`` (the access-log row then says so). Write
answers never carry it, so no stored idempotent answer ever holds a BSN."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlmodel import col

from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.households import repository as repo
from app.domain.households.access import get_visible
from app.domain.households.bsn import BsnProtector
from app.domain.households.case_write import CaseInsert, CaseRemoval, CaseUpdate
from app.domain.households.models import Member
from app.domain.households.rules import ensure_open
from app.domain.households.schemas import MemberCreate, MemberRead, MemberUpdate
from app.domain.unit_of_work.access_log import AccessAction, AccessEntry
from app.domain.unit_of_work.change_feed import ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import Scope

RESOURCE = "member"
BSN_REVEALED = "casework:bsn_revealed"


def new_member(household_id: uuid.UUID, data: MemberCreate, protector: BsnProtector) -> Member:
    member = Member(
        id=uuid.uuid4(),
        household_id=household_id,
        given_name=data.given_name,
        family_name=data.family_name,
        birth_date=data.birth_date,
        role=str(data.role),
    )
    _set_bsn(member, data.bsn, protector)
    return member


def _set_bsn(member: Member, bsn: str | None, protector: BsnProtector) -> None:
    member.bsn_ciphertext = protector.encrypt(bsn, member.id) if bsn is not None else None
    member.bsn_index = protector.index(bsn) if bsn is not None else None


def read_member(
    member: Member | RowMapping | Mapping[str, Any], *, reveal_with: BsnProtector | None
) -> MemberRead:
    """The read model of a member (an ORM object or a column row); the BSN only with ``reveal_with``."""
    row = member.model_dump() if isinstance(member, Member) else dict(member)
    ciphertext = row.pop("bsn_ciphertext", None)
    row.pop("bsn_index", None)
    bsn = reveal_with.decrypt(ciphertext, row["id"]) if reveal_with and ciphertext else None
    return MemberRead(**row, has_bsn=ciphertext is not None, bsn=bsn)


def _revealer(uow: UnitOfWork, principal: Principal, protector: BsnProtector) -> BsnProtector | None:
    if not principal.has(Scope.bsn_read):
        return None
    uow.last_entry.purpose = BSN_REVEALED
    return protector


async def list_members(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    protector: BsnProtector,
    *,
    limit: int | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[MemberRead]:
    """The household's members in the order they were added (``after``: the (created_at, id) of the
    last one seen)."""
    await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.list)
    reveal = _revealer(uow, principal, protector)
    rows = await repo.member_rows(
        uow.session, [col(Member.household_id) == household_id], limit=limit, after=after
    )
    return [read_member(r, reveal_with=reveal) for r in rows]


async def get_member(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    protector: BsnProtector,
) -> MemberRead:
    await get_visible(
        uow,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.read,
        resource_id=member_id,
        person_id=member_id,
    )
    reveal = _revealer(uow, principal, protector)
    rows = await repo.member_rows(
        uow.session, [col(Member.household_id) == household_id, col(Member.id) == member_id]
    )
    if not rows:
        raise NotFound("member")
    return read_member(rows[0], reveal_with=reveal)


CREATE = CaseInsert(
    Member,
    (
        "id", "household_id", "given_name", "family_name", "birth_date", "role", "bsn_ciphertext",
        "bsn_index", "version", "created_at", "updated_at",
    ),
    entity=RESOURCE,
)  # fmt: skip
REMOVE = CaseRemoval(Member, entity=RESOURCE)
_CHANGEABLE = ("given_name", "family_name", "birth_date", "role")


@lru_cache(maxsize=64)
def _change(columns: frozenset[str]) -> CaseUpdate:
    """The update of these columns (a PATCH sets only what it sends)."""
    return CaseUpdate(Member, sorted(columns), entity=RESOURCE)


def _member_entry(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    action: AccessAction,
) -> AccessEntry:
    return uow.log(
        principal,
        resource=RESOURCE,
        action=action,
        household_id=household_id,
        resource_id=member_id,
        person_id=member_id,
    )


async def create_member(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    data: MemberCreate,
    protector: BsnProtector,
) -> MemberRead:
    member = new_member(household_id, data, protector)
    now = utcnow()
    row = {**member.model_dump(), "version": 1, "created_at": now, "updated_at": now}
    entry = _member_entry(uow, principal, household_id, member.id, AccessAction.create)
    outcome = await CREATE.run(uow, principal, entry, row)
    outcome.raise_unless_written()
    return read_member(row, reveal_with=None)


async def _locked_member(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    action: AccessAction,
) -> Member:
    household = await get_visible(
        uow,
        principal,
        household_id,
        resource=RESOURCE,
        action=action,
        resource_id=member_id,
        person_id=member_id,
    )
    member = await repo.member_for_update(uow.session, household_id, member_id)
    if member is None:
        raise NotFound("member")
    ensure_open(household.status)
    return member


def _changes(data: MemberUpdate, protector: BsnProtector, member_id: uuid.UUID) -> dict[str, Any]:
    """The columns a PATCH sets, with its values (the BSN encrypted and blind-indexed)."""
    changes: dict[str, Any] = {}
    for name in _CHANGEABLE:
        if name in data.model_fields_set:
            value = getattr(data, name)
            changes[name] = str(value) if name == "role" else value
    if "bsn" in data.model_fields_set:
        changes["bsn_ciphertext"] = protector.encrypt(data.bsn, member_id) if data.bsn is not None else None
        changes["bsn_index"] = protector.index(data.bsn) if data.bsn is not None else None
    return changes | {"updated_at": utcnow()}


async def update_member(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    data: MemberUpdate,
    expected_version: ExpectedVersion,
    protector: BsnProtector,
) -> MemberRead:
    nulls = [n for n in ("given_name", "role") if n in data.model_fields_set and getattr(data, n) is None]
    if nulls:  # refused after the checks every change answers first (the rare path, in a few reads)
        member = await _locked_member(uow, principal, household_id, member_id, AccessAction.update)
        expected_version.check(member.id, member.version)
        raise ValidationFailed(
            [FieldError(("body", n), "This field cannot be null.", "null_not_allowed") for n in nulls]
        )
    changes = _changes(data, protector, member_id)
    entry = _member_entry(uow, principal, household_id, member_id, AccessAction.update)
    outcome = await _change(frozenset(changes)).run(
        uow, principal, entry, household_id, member_id, expected_version, changes
    )
    outcome.raise_unless_written(RESOURCE, expected_version, member_id)
    assert outcome.row is not None
    return read_member(outcome.row, reveal_with=None)


async def delete_member(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    expected_version: ExpectedVersion,
) -> None:
    # Deleting a member cascades in the database, where no change is recorded: the phones learn
    # from the registry what goes or changes with it, in the same transaction as the removal.
    await uow.begin()
    cascaded = await uow.wiring.sync.member_cascade(uow.session, member_id)
    entry = _member_entry(uow, principal, household_id, member_id, AccessAction.delete)
    outcome = await REMOVE.run(uow, principal, entry, household_id, member_id, expected_version)
    outcome.raise_unless_written(RESOURCE, expected_version, member_id)
    for entity, entity_id, op in cascaded:
        uow.record_change(ChangeRecord(household_id, entity, entity_id, op))
