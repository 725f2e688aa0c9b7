"""Household members. The BSN is validated by the schema, stored encrypted with a blind index, and
revealed only on reads by callers holding ``bsn:read`` (the access-log row then says so). Write
answers never carry it, so no stored idempotent answer ever holds a BSN."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.audit import service as audit
from app.domain.audit.models import AccessAction
from app.domain.base import utcnow
from app.domain.changes.models import ChangeOp
from app.domain.changes.service import record_change
from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.households import repository as repo
from app.domain.households.access import get_visible
from app.domain.households.bsn import BsnProtector
from app.domain.households.models import Member
from app.domain.households.rules import ensure_open
from app.domain.households.schemas import MemberCreate, MemberRead, MemberUpdate
from app.domain.sync.registry import member_cascade
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


def _revealer(session: AsyncSession, principal: Principal, protector: BsnProtector) -> BsnProtector | None:
    if not principal.has(Scope.bsn_read):
        return None
    audit.amend_last(session, purpose=BSN_REVEALED)
    return protector


async def list_members(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, protector: BsnProtector
) -> list[MemberRead]:
    await get_visible(session, principal, household_id, resource=RESOURCE, action=AccessAction.list)
    reveal = _revealer(session, principal, protector)
    rows = await repo.member_rows(session, [col(Member.household_id) == household_id])
    return [read_member(r, reveal_with=reveal) for r in rows]


async def get_member(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    protector: BsnProtector,
) -> MemberRead:
    await get_visible(
        session,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.read,
        resource_id=member_id,
        person_id=member_id,
    )
    reveal = _revealer(session, principal, protector)
    rows = await repo.member_rows(
        session, [col(Member.household_id) == household_id, col(Member.id) == member_id]
    )
    if not rows:
        raise NotFound("member")
    return read_member(rows[0], reveal_with=reveal)


async def create_member(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    data: MemberCreate,
    protector: BsnProtector,
) -> MemberRead:
    household = await get_visible(
        session, principal, household_id, resource=RESOURCE, action=AccessAction.create
    )
    ensure_open(household.status)
    member = new_member(household_id, data, protector)
    session.add(member)
    await session.flush()
    audit.amend_last(session, resource_id=member.id, person_id=member.id)
    await record_change(session, household_id=household_id, entity=RESOURCE, entity_id=member.id)
    return read_member(member, reveal_with=None)


async def _locked_member(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    action: AccessAction,
) -> Member:
    household = await get_visible(
        session,
        principal,
        household_id,
        resource=RESOURCE,
        action=action,
        resource_id=member_id,
        person_id=member_id,
    )
    member = await repo.member_for_update(session, household_id, member_id)
    if member is None:
        raise NotFound("member")
    ensure_open(household.status)
    return member


async def update_member(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    data: MemberUpdate,
    precondition: Any,
    protector: BsnProtector,
) -> MemberRead:
    member = await _locked_member(session, principal, household_id, member_id, AccessAction.update)
    precondition(member.id, member.version)
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
    await session.flush()
    await record_change(session, household_id=household_id, entity=RESOURCE, entity_id=member.id)
    return read_member(member, reveal_with=None)


async def delete_member(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    precondition: Any,
) -> None:
    member = await _locked_member(session, principal, household_id, member_id, AccessAction.delete)
    precondition(member.id, member.version)
    cascaded = await member_cascade(session, member_id)
    await session.delete(member)
    await session.flush()
    await record_change(
        session, household_id=household_id, entity=RESOURCE, entity_id=member_id, op=ChangeOp.delete
    )
    for entity, entity_id, op in cascaded:
        await record_change(session, household_id=household_id, entity=entity, entity_id=entity_id, op=op)
