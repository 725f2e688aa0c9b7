"""Subject-access export (AVG art. 15): everything held on one person, plus who accessed it.

The person is found by member id or by BSN (blind index; every member row with that BSN, e.g. after
a move). The export has the person's member rows and one section per declared provider: each
context declares its sections as ``EXPORT_SECTIONS`` (``app.domain.unit_of_work.registries``), and
``app.bootstrap`` lists them once.

A section returns JSON-ready data (``model_dump(mode="json")``), one statement where it can, and
must not reveal secrets in the clear (the BSN appears masked). The export itself is logged
(action ``export``, purpose ``subject_access_request``) and includes the access-log rows of the
person and their households.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.audit import repository as audit_repo
from app.domain.audit.schemas import AccessLogEntryRead
from app.domain.base import utcnow
from app.domain.errors import NotFound
from app.domain.households.bsn import BsnProtector
from app.domain.households.models import (
    Member,
)
from app.domain.households.sync_and_export import members_section
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.registries import Subject
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

PURPOSE = "subject_access_request"
_ROWS = TypeAdapter(list[dict[str, Any]])


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


async def export_sections(uow: UnitOfWork, subject: Subject, protector: BsnProtector) -> dict[str, Any]:
    """Everything held on ``subject``: their member rows and every declared section (the export of
    the privacy officer, and a household member's own in self-service)."""
    session = uow.session
    sections: dict[str, Any] = {"members": await members_section(session, subject, protector)}
    for section in uow.wiring.exports.sections:
        sections[section.name] = await section.read(session, subject)
    return sections


async def subject_access_export(
    uow: UnitOfWork,
    principal: Principal,
    protector: BsnProtector,
    *,
    member_id: uuid.UUID | None = None,
    bsn: str | None = None,
) -> SubjectExport:
    entry = uow.log(principal, resource="subject_access", action=AccessAction.export, purpose=PURPOSE)
    session = uow.session
    subject = await _resolve(session, member_id, protector.index(bsn) if bsn else None)
    if subject is None:
        raise NotFound("person")
    entry.person_id, entry.household_id = subject.member_ids[0], subject.household_ids[0]
    sections = await export_sections(uow, subject, protector)
    log = await audit_repo.subject_entries(session, subject.member_ids, subject.household_ids)
    return SubjectExport(
        generated_at=utcnow(),
        member_ids=list(subject.member_ids),
        household_ids=list(subject.household_ids),
        sections=sections,
        access_log=[AccessLogEntryRead.model_validate(dict(r)) for r in log],
    )
