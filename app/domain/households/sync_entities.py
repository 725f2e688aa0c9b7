"""The household context's entities in offline sync: household (with its themes), member (never the
BSN; ``has_bsn`` only) and contact moment. Imported by the sync service, so always registered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.households import repository as repo
from app.domain.households.members import read_member
from app.domain.households.models import ContactMoment, Household, Member
from app.domain.households.schemas import ContactRead, HouseholdRead
from app.domain.sync.registry import SyncEntity, SyncRecord, register_sync_entity


async def _households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    rows = await repo.household_rows(session, [col(Household.id).in_(ids)])
    return [
        SyncRecord(r["id"], r["id"], HouseholdRead.model_validate(dict(r)).model_dump(mode="json"))
        for r in rows
    ]


async def _members(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[SyncRecord]:
    rows = await repo.member_rows(session, [where])
    return [
        SyncRecord(r["id"], r["household_id"], read_member(r, reveal_with=None).model_dump(mode="json"))
        for r in rows
    ]


async def _members_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _members(session, col(Member.id).in_(ids))


async def _members_by_households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _members(session, col(Member.household_id).in_(ids))


async def _contacts(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[SyncRecord]:
    rows = await repo.contact_rows(session, [where])
    return [
        SyncRecord(r["id"], r["household_id"], ContactRead.model_validate(dict(r)).model_dump(mode="json"))
        for r in rows
    ]


async def _contacts_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _contacts(session, col(ContactMoment.id).in_(ids))


async def _contacts_by_households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _contacts(session, col(ContactMoment.household_id).in_(ids))


register_sync_entity(SyncEntity("household", _households, _households))
register_sync_entity(SyncEntity("member", _members_by_ids, _members_by_households))
register_sync_entity(SyncEntity("contact_moment", _contacts_by_ids, _contacts_by_households))
