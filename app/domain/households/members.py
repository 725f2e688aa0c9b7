"""Household members. The BSN is validated by the schema, stored encrypted with a blind index, and
revealed only on reads by callers holding ``bsn:read`` (the access-log row then says so). Write
answers never carry it, so no stored idempotent answer ever holds a BSN."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.engine import RowMapping
from sqlmodel import col

from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.households import repository as repo
from app.domain.households.access import get_visible
from app.domain.households.bsn import BsnProtector
from app.domain.households.models import Member
from app.domain.households.rules import ensure_open
from app.domain.households.schemas import MemberCreate, MemberRead, MemberUpdate
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.change_feed import ChangeOp, ChangeRecord
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


def read_member(member: Member | RowMapping, *, reveal_with: BsnProtector | None) -> MemberRead:
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


async def create_member(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    data: MemberCreate,
    protector: BsnProtector,
) -> MemberRead:
    household = await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.create)
    ensure_open(household.status)
    member = new_member(household_id, data, protector)
    uow.session.add(member)
    await uow.session.flush()
    uow.last_entry.resource_id = uow.last_entry.person_id = member.id
    uow.record_change(ChangeRecord(household_id, RESOURCE, member.id))
    return read_member(member, reveal_with=None)


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


async def update_member(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    data: MemberUpdate,
    expected_version: ExpectedVersion,
    protector: BsnProtector,
) -> MemberRead:
    member = await _locked_member(uow, principal, household_id, member_id, AccessAction.update)
    expected_version.check(member.id, member.version)
    nulls = [n for n in ("given_name", "role") if n in data.model_fields_set and getattr(data, n) is None]
    if nulls:
        raise ValidationFailed(
            [FieldError(("body", n), "This field cannot be null.", "null_not_allowed") for n in nulls]
        )
    for name in ("given_name", "family_name", "birth_date", "role"):
        if name in data.model_fields_set:
            value = getattr(data, name)
            setattr(member, name, str(value) if name == "role" else value)
    if "bsn" in data.model_fields_set:
        _set_bsn(member, data.bsn, protector)
    member.version += 1
    member.updated_at = utcnow()
    await uow.session.flush()
    uow.record_change(ChangeRecord(household_id, RESOURCE, member.id))
    return read_member(member, reveal_with=None)


async def delete_member(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    expected_version: ExpectedVersion,
) -> None:
    member = await _locked_member(uow, principal, household_id, member_id, AccessAction.delete)
    expected_version.check(member.id, member.version)
    # Deleting a member cascades in the database, where no change is recorded: the phones learn
    # from the registry what goes or changes with it.
    cascaded = await uow.wiring.sync.member_cascade(uow.session, member_id)
    await uow.session.delete(member)
    await uow.session.flush()
    uow.record_change(ChangeRecord(household_id, RESOURCE, member_id, ChangeOp.delete))
    for entity, entity_id, op in cascaded:
        uow.record_change(ChangeRecord(household_id, entity, entity_id, op))
