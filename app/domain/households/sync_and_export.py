"""What the household context contributes to offline sync and to the subject-access export.

Sync: household (with its themes), member (never the BSN; ``has_bsn`` only) and contact moment.
Export: the person's member rows (the BSN masked), their households, contact moments, and who was
given access (assignments, break-glass grants with their reasons).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.households import repository as repo
from app.domain.households.bsn import BsnProtector, mask
from app.domain.households.members import read_member
from app.domain.households.models import (
    BreakGlassGrant,
    ContactMoment,
    Household,
    HouseholdAssignment,
    Member,
)
from app.domain.households.schemas import ContactRead, HouseholdRead
from app.domain.unit_of_work.registries import ExportSection, Subject, SyncEntity, SyncRecord

_ROWS = TypeAdapter(list[dict[str, Any]])


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


# -- subject-access export: the household context's sections ----------------------------------------


async def members_section(
    session: AsyncSession, subject: Subject, protector: BsnProtector
) -> list[dict[str, Any]]:
    """The person's member rows; the BSN masked (the privacy officer holds no bsn:read)."""
    rows = await repo.member_rows(session, [col(Member.id).in_(subject.member_ids)])
    return [
        {
            **read_member(r, reveal_with=None).model_dump(mode="json"),
            "bsn_masked": mask(protector.decrypt(r["bsn_ciphertext"], r["id"]))
            if r["bsn_ciphertext"]
            else None,
        }
        for r in rows
    ]


async def _export_households(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    rows = await repo.household_rows(session, [col(Household.id).in_(subject.household_ids)])
    return [HouseholdRead.model_validate(dict(r)).model_dump(mode="json") for r in rows]


async def _export_contacts(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    rows = await repo.contact_rows(session, [col(ContactMoment.household_id).in_(subject.household_ids)])
    return [ContactRead.model_validate(dict(r)).model_dump(mode="json") for r in rows]


async def _export_access_grants(session: AsyncSession, subject: Subject) -> dict[str, Any]:
    """Who was given access: assignments and break-glass grants (with their reasons)."""
    assigned = await session.execute(
        select(
            HouseholdAssignment.household_id, HouseholdAssignment.worker_id, HouseholdAssignment.assigned_at
        ).where(col(HouseholdAssignment.household_id).in_(subject.household_ids))
    )
    grants = await session.execute(
        sa.select(
            col(BreakGlassGrant.household_id),
            col(BreakGlassGrant.worker_id),
            col(BreakGlassGrant.reason),
            col(BreakGlassGrant.granted_at),
            col(BreakGlassGrant.expires_at),
        ).where(col(BreakGlassGrant.household_id).in_(subject.household_ids))
    )
    return {
        "assignments": _ROWS.dump_python([dict(r) for r in assigned.mappings()], mode="json"),
        "break_glass": _ROWS.dump_python([dict(r) for r in grants.mappings()], mode="json"),
    }


SYNC_ENTITIES = (
    SyncEntity("household", _households, _households),
    SyncEntity("member", _members_by_ids, _members_by_households),
    SyncEntity("contact_moment", _contacts_by_ids, _contacts_by_households),
)
EXPORT_SECTIONS = (
    ExportSection("households", _export_households),
    ExportSection("contact_moments", _export_contacts),
    ExportSection("access_grants", _export_access_grants),
)
