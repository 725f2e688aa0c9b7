"""Subject-access export (AVG art. 15): everything held on one person, plus who accessed it.

The person is found by member id or by BSN (blind index; every member row with that BSN, e.g. after
a move). The export has one section per registered provider; other contexts add theirs once, at
import time of a module their router imports::

    from app.domain.households.export import Subject, register_export_section

    async def _assessments(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
        # everything of yours about subject.member_ids / subject.household_ids, JSON-ready
        ...

    register_export_section("assessments", _assessments)

A section returns JSON-ready data (``model_dump(mode="json")``), one statement where it can, and
must not reveal secrets in the clear (the BSN appears masked). The export itself is logged
(action ``export``, purpose ``subject_access_request``) and includes the access-log rows of the
person and their households.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.audit import repository as audit_repo
from app.domain.audit import service as audit
from app.domain.audit.models import AccessAction
from app.domain.audit.schemas import AccessLogEntryRead
from app.domain.base import utcnow
from app.domain.errors import NotFound
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
from app.security.principal import Principal

PURPOSE = "subject_access_request"
_ROWS = TypeAdapter(list[dict[str, Any]])


@dataclass(frozen=True)
class Subject:
    member_ids: tuple[uuid.UUID, ...]
    household_ids: tuple[uuid.UUID, ...]


ExportSection = Callable[[AsyncSession, Subject], Awaitable[Any]]
_SECTIONS: dict[str, ExportSection] = {}


def register_export_section(name: str, section: ExportSection) -> None:
    _SECTIONS[name] = section


def export_sections() -> dict[str, ExportSection]:
    return dict(_SECTIONS)


class SubjectExport(BaseModel):
    generated_at: datetime
    member_ids: list[uuid.UUID]
    household_ids: list[uuid.UUID]
    sections: dict[str, Any]
    access_log: list[AccessLogEntryRead]


async def _resolve(
    session: AsyncSession, member_id: uuid.UUID | None, bsn_index: str | None
) -> Subject | None:
    """The member rows of one person: the given one plus every row sharing its BSN."""
    if member_id is not None:
        own = select(Member.bsn_index).where(Member.id == member_id).scalar_subquery()
        condition = sa.or_(col(Member.id) == member_id, col(Member.bsn_index) == own)
    else:
        condition = col(Member.bsn_index) == bsn_index
    rows = (await session.execute(select(Member.id, Member.household_id).where(condition))).all()
    if not rows:
        return None
    return Subject(tuple(sorted({r[0] for r in rows})), tuple(sorted({r[1] for r in rows})))


async def subject_access_export(
    session: AsyncSession,
    principal: Principal,
    protector: BsnProtector,
    *,
    member_id: uuid.UUID | None = None,
    bsn: str | None = None,
) -> SubjectExport:
    entry = audit.record(
        session, principal, resource="subject_access", action=AccessAction.export, purpose=PURPOSE
    )
    subject = await _resolve(session, member_id, protector.index(bsn) if bsn else None)
    if subject is None:
        raise NotFound("person")
    entry.update(person_id=subject.member_ids[0], household_id=subject.household_ids[0])
    sections: dict[str, Any] = {"members": await _members(session, subject, protector)}
    for name, section in _SECTIONS.items():
        sections[name] = await section(session, subject)
    log = await audit_repo.subject_entries(session, subject.member_ids, subject.household_ids)
    return SubjectExport(
        generated_at=utcnow(),
        member_ids=list(subject.member_ids),
        household_ids=list(subject.household_ids),
        sections=sections,
        access_log=[AccessLogEntryRead.model_validate(dict(r)) for r in log],
    )


# -- the household context's own sections --------------------------------------------------------


async def _members(session: AsyncSession, subject: Subject, protector: BsnProtector) -> list[dict[str, Any]]:
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


async def _households(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    rows = await repo.household_rows(session, [col(Household.id).in_(subject.household_ids)])
    return [HouseholdRead.model_validate(dict(r)).model_dump(mode="json") for r in rows]


async def _contacts(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    rows = await repo.contact_rows(session, [col(ContactMoment.household_id).in_(subject.household_ids)])
    return [ContactRead.model_validate(dict(r)).model_dump(mode="json") for r in rows]


async def _workers(session: AsyncSession, subject: Subject) -> dict[str, Any]:
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
        "assignments": _ROWS.dump_python([dict(r._mapping) for r in assigned], mode="json"),
        "break_glass": _ROWS.dump_python([dict(r._mapping) for r in grants], mode="json"),
    }


register_export_section("households", _households)
register_export_section("contact_moments", _contacts)
register_export_section("access_grants", _workers)
