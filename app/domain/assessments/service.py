"""Assessment use cases. Every one goes through ``get_visible`` (one access-log row, 404 when hidden)
and records a change for mobile sync; nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.assessments import repository as repo
from app.domain.assessments.casefile import (
    parse_cursor_key,
    reject_nulls,
    touch,
    uuid_of,
)
from app.domain.assessments.models import Assessment
from app.domain.assessments.rules import derive_tier, duplicate_domains, is_in_future
from app.domain.assessments.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AssessmentSummary,
    AssessmentUpdate,
    LatestScore,
    ScoreIn,
    ScoreRead,
)
from app.domain.assessments.sync_and_export import ENTITY
from app.domain.base import utcnow
from app.domain.concurrency import Precondition
from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.rules import ensure_open
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.legacy import record_change
from app.security.principal import Principal

RESOURCE = "assessment"


async def check_domains(
    session: AsyncSession, codes: Sequence[str], loc: tuple[str | int, ...], field: str = "domain"
) -> list[FieldError]:
    """Unknown or inactive life-domain codes, as field errors at ``loc + (i, field)``."""
    active = await repo.active_domains(session, codes)
    return [
        FieldError((*loc, i, field), "Not an active life domain.", "unknown_life_domain")
        for i, code in enumerate(codes)
        if code not in active
    ]


async def check_member(
    session: AsyncSession, household_id: uuid.UUID, member_id: uuid.UUID | None, loc: tuple[str | int, ...]
) -> list[FieldError]:
    if member_id is None or await repo.member_in_household(session, household_id, member_id):
        return []
    return [FieldError(loc, "Not a member of this household.", "member_not_in_household")]


async def _validate(
    session: AsyncSession,
    household_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    assessed_on: date | None,
    scores: Sequence[ScoreIn] | None,
) -> None:
    errors = await check_member(session, household_id, member_id, ("body", "member_id"))
    if assessed_on is not None and is_in_future(assessed_on, utcnow()):
        errors.append(FieldError(("body", "assessed_on"), "Cannot be in the future.", "date_in_future"))
    if scores is not None:
        codes = [s.domain for s in scores]
        errors += await check_domains(session, codes, ("body", "scores"))
        if duplicate_domains(codes):
            errors.append(
                FieldError(("body", "scores"), "Each domain may be scored once.", "duplicate_domain")
            )
    if errors:
        raise ValidationFailed(errors)


def _read(assessment: Assessment, scores: list[tuple[str, int]]) -> AssessmentRead:
    return AssessmentRead(
        id=assessment.id,
        household_id=assessment.household_id,
        member_id=assessment.member_id,
        assessed_on=assessment.assessed_on,
        assessed_by=assessment.assessed_by,
        note=assessment.note,
        scores=[ScoreRead(domain=d, score=s) for d, s in scores],
        version=assessment.version,
        created_at=assessment.created_at,
        updated_at=assessment.updated_at,
    )


async def create(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, data: AssessmentCreate
) -> AssessmentRead:
    new_id = uuid.uuid4()
    household = await get_visible(
        session,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.create,
        resource_id=new_id,
        person_id=data.member_id,
    )
    ensure_open(household.status)
    await _validate(
        session, household_id, member_id=data.member_id, assessed_on=data.assessed_on, scores=data.scores
    )
    assessment = Assessment(
        id=new_id,
        household_id=household_id,
        member_id=data.member_id,
        assessed_on=data.assessed_on,
        assessed_by=principal.worker_id,
        note=data.note,
    )
    session.add(assessment)
    await session.flush()
    scores = [(s.domain, s.score) for s in data.scores]
    await repo.replace_scores(session, new_id, scores)
    await record_change(session, household_id=household_id, entity=ENTITY, entity_id=new_id)
    return _read(assessment, (await repo.scores_of(session, [new_id]))[new_id])


async def read(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, assessment_id: uuid.UUID
) -> AssessmentRead:
    await get_visible(
        session,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.read,
        resource_id=assessment_id,
    )
    assessment = await repo.get(session, household_id, assessment_id)
    if assessment is None:
        raise NotFound(RESOURCE)
    return _read(assessment, (await repo.scores_of(session, [assessment_id]))[assessment_id])


async def list_page(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    after: list[Any] | None,
    limit: int,
) -> tuple[list[AssessmentRead], list[Any] | None]:
    """One page, newest first, and the key of its last item when more may follow (constant queries)."""
    await get_visible(
        session, principal, household_id, resource=RESOURCE, action=AccessAction.list, person_id=member_id
    )
    key = parse_cursor_key(after, date.fromisoformat, datetime.fromisoformat, uuid_of)
    rows = await repo.page(session, household_id, member_id=member_id, after=key, limit=limit)
    scores = await repo.scores_of(session, [a.id for a in rows])
    items = [_read(a, scores[a.id]) for a in rows]
    last = rows[-1] if len(rows) == limit else None
    return items, ([str(last.assessed_on), last.created_at.isoformat(), str(last.id)] if last else None)


async def update(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    data: AssessmentUpdate,
    precondition: Precondition,
) -> AssessmentRead:
    household = await get_visible(
        session,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.update,
        resource_id=assessment_id,
    )
    assessment = await repo.get(session, household_id, assessment_id, for_update=True)
    if assessment is None:
        raise NotFound(RESOURCE)
    precondition(assessment.id, assessment.version)
    ensure_open(household.status)
    reject_nulls(data, "assessed_on", "scores")
    await _validate(session, household_id, member_id=None, assessed_on=data.assessed_on, scores=data.scores)
    if data.assessed_on is not None:
        assessment.assessed_on = data.assessed_on
    if "note" in data.model_fields_set:
        assessment.note = data.note
    if data.scores is not None:
        await repo.replace_scores(session, assessment_id, [(s.domain, s.score) for s in data.scores])
    touch(assessment)
    await session.flush()
    await record_change(session, household_id=household_id, entity=ENTITY, entity_id=assessment_id)
    return _read(assessment, (await repo.scores_of(session, [assessment_id]))[assessment_id])


async def delete(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    precondition: Precondition,
) -> None:
    household = await get_visible(
        session,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.delete,
        resource_id=assessment_id,
    )
    assessment = await repo.get(session, household_id, assessment_id, for_update=True)
    if assessment is None:
        raise NotFound(RESOURCE)
    precondition(assessment.id, assessment.version)
    ensure_open(household.status)
    await session.delete(assessment)
    await session.flush()
    await record_change(
        session, household_id=household_id, entity=ENTITY, entity_id=assessment_id, op=ChangeOp.delete
    )


async def summary(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> AssessmentSummary:
    await get_visible(
        session, principal, household_id, resource="assessment_summary", action=AccessAction.read
    )
    rows = await repo.latest_scores(session, household_id)
    latest = [
        LatestScore(
            domain=r.domain_code,
            member_id=r.member_id,
            score=r.score,
            assessed_on=r.assessed_on,
            assessment_id=r.assessment_id,
        )
        for r in rows
    ]
    return AssessmentSummary(tier=derive_tier(s.score for s in latest), latest=latest)
