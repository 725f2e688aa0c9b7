"""Assessment use cases. Reads go through ``get_visible`` (one access-log row, 404 when hidden); writes
are one statement each (``households.case_write``), with the same access rule, entry and change record
for mobile sync; nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from app.domain.assessments import repository as repo
from app.domain.assessments.casefile import null_errors, reject
from app.domain.assessments.models import Assessment, AssessmentScore
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
from app.domain.errors import FieldError, NotFound
from app.domain.households.access import get_visible
from app.domain.households.case_outcome import Outcome
from app.domain.households.case_sql import Child
from app.domain.households.case_write import CaseInsert, CaseRemoval, CaseUpdate
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "assessment"


def domain_errors(
    active: Sequence[bool], loc: tuple[str | int, ...], field: str = "domain"
) -> list[FieldError]:
    """Field errors at ``loc + (i, field)`` for the codes that are not active life domains (``active``:
    one boolean per code, in the order sent)."""
    return [
        FieldError((*loc, i, field), "Not an active life domain.", "unknown_life_domain")
        for i, ok in enumerate(active)
        if not ok
    ]


async def check_domains(
    uow: UnitOfWork, codes: Sequence[str], loc: tuple[str | int, ...], field: str = "domain"
) -> list[FieldError]:
    """Unknown or inactive life-domain codes, as field errors at ``loc + (i, field)``."""
    active = await repo.active_domains(uow.session, codes)
    return domain_errors([code in active for code in codes], loc, field)


def member_errors(known: bool, loc: tuple[str | int, ...]) -> list[FieldError]:
    return [] if known else [FieldError(loc, "Not a member of this household.", "member_not_in_household")]


FUTURE = FieldError(("body", "assessed_on"), "Cannot be in the future.", "date_in_future")
DUPLICATE = FieldError(("body", "scores"), "Each domain may be scored once.", "duplicate_domain")


def _errors(outcome: Outcome, *, future: bool, duplicate: bool) -> list[FieldError]:
    """What is wrong with an assessment's content, in the order always answered: the member, the
    date, each score's domain, a domain scored twice (the database's facts from the statement's
    checks, the rest checked before it)."""
    errors = (
        member_errors(not outcome.failed("member"), ("body", "member_id"))
        if "member" in outcome.checks
        else []
    )
    errors += [FUTURE] if future else []
    errors += domain_errors(outcome.checks.get("domains", []), ("body", "scores"))
    return errors + ([DUPLICATE] if duplicate else [])


def _read(assessment: Assessment | Mapping[str, Any], scores: list[tuple[str, int]]) -> AssessmentRead:
    row = assessment.model_dump() if isinstance(assessment, Assessment) else assessment
    return AssessmentRead(
        **{name: row[name] for name in repo.ASSESSMENT_COLUMNS},
        scores=[ScoreRead(domain=d, score=s) for d, s in scores],
    )


async def _read_back(uow: UnitOfWork, assessment: Assessment) -> AssessmentRead:
    return _read(assessment, (await repo.scores_of(uow.session, [assessment.id]))[assessment.id])


# One statement per write (households.case_write): the access check, the open file, the version, the
# assessment and its scores, the member and the domains checked, the change row and the entry.
SCORES = Child(AssessmentScore, "assessment_id", ("domain_code", "score"))
CREATE = CaseInsert(
    Assessment,
    repo.ASSESSMENT_COLUMNS,
    entity=ENTITY,
    children=(SCORES,),
    checks={
        "member": repo.member_here(sa.bindparam("v_member_id", type_=sa.Uuid)),
        "domains": repo.each_active_domain(),
    },
    reads={"scores": repo.sent_scores()},
)
REMOVE = CaseRemoval(Assessment, entity=ENTITY)


@lru_cache(maxsize=32)
def _change(columns: frozenset[str], scores: bool) -> CaseUpdate:
    """The correction of these columns; with ``scores``, the scores replaced by those sent."""
    if not scores:
        return CaseUpdate(Assessment, sorted(columns), entity=ENTITY, reads={"scores": repo.scores_now()})
    return CaseUpdate(
        Assessment,
        sorted(columns),
        entity=ENTITY,
        children=(SCORES,),
        checks={"domains": repo.each_active_domain()},
        reads={"scores": repo.sent_scores()},
    )


def _sent(scores: Sequence[ScoreIn]) -> tuple[list[dict[str, list[Any]]], dict[str, list[Any]]]:
    """The scores as the statement takes them: the child rows, and the arrays its checks read."""
    codes, values = [s.domain for s in scores], [s.score for s in scores]
    return [{"domain_code": codes, "score": values}], {"domains": codes, "scores": values}


async def create(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, data: AssessmentCreate
) -> AssessmentRead:
    new_id = uuid.uuid4()
    now = utcnow()
    row = {
        "id": new_id,
        "household_id": household_id,
        "member_id": data.member_id,
        "assessed_on": data.assessed_on,
        "assessed_by": principal.worker_id,
        "note": data.note,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    entry = uow.log(
        principal,
        resource=RESOURCE,
        action=AccessAction.create,
        household_id=household_id,
        resource_id=new_id,
        person_id=data.member_id,
    )
    future = is_in_future(data.assessed_on, now)
    duplicate = bool(duplicate_domains([s.domain for s in data.scores]))
    children, params = _sent(data.scores)
    outcome = await CREATE.run(
        uow, principal, entry, row, children, valid=not (future or duplicate), params=params
    )
    outcome.raise_unless_written(rules=lambda: reject(_errors(outcome, future=future, duplicate=duplicate)))
    return _read(row, outcome.reads["scores"])


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


async def update(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    data: AssessmentUpdate,
    expected_version: ExpectedVersion,
) -> AssessmentRead:
    changes: dict[str, Any] = {"updated_at": utcnow()}
    if data.assessed_on is not None:
        changes["assessed_on"] = data.assessed_on
    if "note" in data.model_fields_set:
        changes["note"] = data.note
    nulls = null_errors(data, "assessed_on", "scores")
    future = data.assessed_on is not None and is_in_future(data.assessed_on, changes["updated_at"])
    duplicate = data.scores is not None and bool(duplicate_domains([s.domain for s in data.scores]))
    children, params = _sent(data.scores) if data.scores is not None else ([], {})
    entry = uow.log(
        principal,
        resource=RESOURCE,
        action=AccessAction.update,
        household_id=household_id,
        resource_id=assessment_id,
    )
    outcome = await _change(frozenset(changes), data.scores is not None).run(
        uow,
        principal,
        entry,
        household_id,
        assessment_id,
        expected_version,
        changes,
        children,
        valid=not (nulls or future or duplicate),
        params=params,
    )
    outcome.raise_unless_written(
        RESOURCE,
        expected_version,
        assessment_id,
        version_first=True,
        # A null for a required field is answered alone, before the content is checked.
        rules=lambda: reject(nulls or _errors(outcome, future=future, duplicate=duplicate)),
    )
    assert outcome.row is not None
    return _read(outcome.row, outcome.reads["scores"])


async def delete(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    expected_version: ExpectedVersion,
) -> None:
    entry = uow.log(
        principal,
        resource=RESOURCE,
        action=AccessAction.delete,
        household_id=household_id,
        resource_id=assessment_id,
    )
    outcome = await REMOVE.run(uow, principal, entry, household_id, assessment_id, expected_version)
    outcome.raise_unless_written(RESOURCE, expected_version, assessment_id, version_first=True)


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
