"""Assessment use cases. Every one goes through ``get_visible`` (one access-log row, 404 when hidden)
and records a change for mobile sync; nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from app.domain.assessments import repository as repo
from app.domain.assessments.casefile import reject_nulls, touch
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
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.households.access import get_visible
from app.domain.households.rules import ensure_open
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.change_feed import ChangeOp, ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "assessment"


async def check_domains(
    uow: UnitOfWork, codes: Sequence[str], loc: tuple[str | int, ...], field: str = "domain"
) -> list[FieldError]:
    """Unknown or inactive life-domain codes, as field errors at ``loc + (i, field)``."""
    active = await repo.active_domains(uow.session, codes)
    return [
        FieldError((*loc, i, field), "Not an active life domain.", "unknown_life_domain")
        for i, code in enumerate(codes)
        if code not in active
    ]


async def check_member(
    uow: UnitOfWork, household_id: uuid.UUID, member_id: uuid.UUID | None, loc: tuple[str | int, ...]
) -> list[FieldError]:
    if member_id is None or await repo.member_in_household(uow.session, household_id, member_id):
        return []
    return [FieldError(loc, "Not a member of this household.", "member_not_in_household")]


async def _validate(
    uow: UnitOfWork,
    household_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    assessed_on: date | None,
    scores: Sequence[ScoreIn] | None,
) -> None:
    errors = await check_member(uow, household_id, member_id, ("body", "member_id"))
    if assessed_on is not None and is_in_future(assessed_on, utcnow()):
        errors.append(FieldError(("body", "assessed_on"), "Cannot be in the future.", "date_in_future"))
    if scores is not None:
        codes = [s.domain for s in scores]
        errors += await check_domains(uow, codes, ("body", "scores"))
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


async def _read_back(uow: UnitOfWork, assessment: Assessment) -> AssessmentRead:
    return _read(assessment, (await repo.scores_of(uow.session, [assessment.id]))[assessment.id])


async def create(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: AssessmentCreate
) -> AssessmentRead:
    new_id = uuid.uuid4()
    household = await get_visible(
        uow,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.create,
        resource_id=new_id,
        person_id=data.member_id,
    )
    ensure_open(household.status)
    await _validate(
        uow, household_id, member_id=data.member_id, assessed_on=data.assessed_on, scores=data.scores
    )
    assessment = Assessment(
        id=new_id,
        household_id=household_id,
        member_id=data.member_id,
        assessed_on=data.assessed_on,
        assessed_by=principal.worker_id,
        note=data.note,
    )
    uow.session.add(assessment)
    await uow.session.flush()
    await repo.replace_scores(uow.session, new_id, [(s.domain, s.score) for s in data.scores])
    uow.record_change(ChangeRecord(household_id, ENTITY, new_id))
    return await _read_back(uow, assessment)


async def read(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, assessment_id: uuid.UUID
) -> AssessmentRead:
    await get_visible(
        uow,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.read,
        resource_id=assessment_id,
    )
    assessment = await repo.get(uow.session, household_id, assessment_id)
    if assessment is None:
        raise NotFound(RESOURCE)
    return await _read_back(uow, assessment)


async def list_assessments(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    limit: int,
    after: tuple[date, datetime, uuid.UUID] | None,
) -> list[AssessmentRead]:
    """Newest first (``after``: the (assessed_on, created_at, id) of the last one seen); two queries
    whatever the page size."""
    await get_visible(
        uow, principal, household_id, resource=RESOURCE, action=AccessAction.list, person_id=member_id
    )
    rows = await repo.page(uow.session, household_id, member_id=member_id, after=after, limit=limit)
    scores = await repo.scores_of(uow.session, [a.id for a in rows])
    return [_read(a, scores[a.id]) for a in rows]


async def _locked(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    action: AccessAction,
    expected_version: ExpectedVersion,
) -> Assessment:
    """The assessment to change, locked, once the caller may see it and named the version they edited;
    the case file must still be open."""
    household = await get_visible(
        uow, principal, household_id, resource=RESOURCE, action=action, resource_id=assessment_id
    )
    assessment = await repo.get(uow.session, household_id, assessment_id, for_update=True)
    if assessment is None:
        raise NotFound(RESOURCE)
    expected_version.check(assessment.id, assessment.version)
    ensure_open(household.status)
    return assessment


async def update(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    data: AssessmentUpdate,
    expected_version: ExpectedVersion,
) -> AssessmentRead:
    assessment = await _locked(
        uow, principal, household_id, assessment_id, AccessAction.update, expected_version
    )
    reject_nulls(data, "assessed_on", "scores")
    await _validate(uow, household_id, member_id=None, assessed_on=data.assessed_on, scores=data.scores)
    if data.assessed_on is not None:
        assessment.assessed_on = data.assessed_on
    if "note" in data.model_fields_set:
        assessment.note = data.note
    if data.scores is not None:
        await repo.replace_scores(uow.session, assessment_id, [(s.domain, s.score) for s in data.scores])
    touch(assessment)
    await uow.session.flush()
    uow.record_change(ChangeRecord(household_id, ENTITY, assessment_id))
    return await _read_back(uow, assessment)


async def delete(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    expected_version: ExpectedVersion,
) -> None:
    assessment = await _locked(
        uow, principal, household_id, assessment_id, AccessAction.delete, expected_version
    )
    await uow.session.delete(assessment)
    await uow.session.flush()
    uow.record_change(ChangeRecord(household_id, ENTITY, assessment_id, ChangeOp.delete))


async def summary(uow: UnitOfWork, principal: Principal, household_id: uuid.UUID) -> AssessmentSummary:
    await get_visible(uow, principal, household_id, resource="assessment_summary", action=AccessAction.read)
    rows = await repo.latest_scores(uow.session, household_id)
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
