"""What the household context contributes to offline sync and to the subject-access export.

Sync: household (with its themes), member (never the BSN; ``has_bsn`` only) and contact moment.
Export: the person's member rows (the BSN masked), their households, contact moments, and who was
given access (assignments, break-glass grants with their reasons).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.documents import json_object
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
from app.domain.households.schemas import ContactRead, HouseholdRead, MemberRead
from app.domain.unit_of_work.registries import ExportSection, Subject, SyncEntity, sync_documents

_ROWS = TypeAdapter(list[dict[str, Any]])


def _household_documents() -> sa.Select[Any]:
    household = repo.household_select([]).subquery("household")
    fields = {name: household.c[name] for name in HouseholdRead.model_fields}
    return sync_documents(household.c.id, household.c.id, json_object(HouseholdRead, fields))


def _member_documents() -> sa.Select[Any]:
    """Never the BSN: ``has_bsn`` only (``bsn`` is null, as in a read without bsn:read)."""
    members = table_of(Member)
    fields: dict[str, Any] = {name: members.c[name] for name in MemberRead.model_fields if name in members.c}
    fields |= {"has_bsn": members.c.bsn_ciphertext.is_not(None), "bsn": sa.null()}
    return sync_documents(members.c.id, members.c.household_id, json_object(MemberRead, fields))


def _contact_documents() -> sa.Select[Any]:
    contacts = table_of(ContactMoment)
    fields = {name: contacts.c[name] for name in ContactRead.model_fields}
    return sync_documents(contacts.c.id, contacts.c.household_id, json_object(ContactRead, fields))


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
    SyncEntity("household", _household_documents()),
    SyncEntity("member", _member_documents()),
    SyncEntity("contact_moment", _contact_documents()),
)
EXPORT_SECTIONS = (
    ExportSection("households", _export_households),
    ExportSection("contact_moments", _export_contacts),
    ExportSection("access_grants", _export_access_grants),
)
