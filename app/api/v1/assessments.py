"""Self-sufficiency assessments of a household: ``/api/v1/households/{household_id}/assessments``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.auth import CaseReader, CaseWriter
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.assessments import service
from app.domain.assessments.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AssessmentSummary,
    AssessmentUpdate,
)
from app.web.cursors import PageRequest

router = APIRouter(tags=["assessments"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

BASE = "/households/{household_id:uuid}/assessments"
# Extra documented answers of case-file writes: a broken state rule, a stale or missing If-Match.
CONFLICT = problem_responses(409)
CONDITIONAL = problem_responses(409, 412, 428)

# Newest first: by the day assessed, then the order recorded.
AssessmentPage = Annotated[
    PageRequest[tuple[date, datetime, uuid.UUID]], keyset("assessments", date, datetime, uuid.UUID)
]


@router.get(BASE, response_model=Page[AssessmentRead], summary="List assessments, newest first")
async def list_assessments(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    page: AssessmentPage,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member's assessments.")] = None,
) -> Page[AssessmentRead]:
    found = await service.list_assessments(
        uow, principal, household_id, member_id=member_id, limit=page.fetch, after=page.after
    )
    return Page.cut(page, found, lambda a: (a.assessed_on, a.created_at, a.id))


@router.post(
    BASE,
    response_model=AssessmentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record an assessment (scores per life domain)",
    responses=CONFLICT,
)
async def create_assessment(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    body: AssessmentCreate,
    response: Response,
    _: Idempotent,
) -> AssessmentRead:
    created = await service.create(uow, principal, household_id, body)
    set_etag(response, created.id, created.version)
    return created


@router.get(
    BASE + "/latest",
    response_model=AssessmentSummary,
    summary="Latest score per life domain and the derived 80-20-5 tier",
)
async def latest_scores(uow: UoW, principal: CaseReader, household_id: uuid.UUID) -> AssessmentSummary:
    return await service.summary(uow, principal, household_id)


@router.get(BASE + "/{assessment_id:uuid}", response_model=AssessmentRead, summary="Read an assessment")
async def read_assessment(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    response: Response,
) -> AssessmentRead:
    found = await service.read(uow, principal, household_id, assessment_id)
    set_etag(response, found.id, found.version)
    return found


@router.patch(
    BASE + "/{assessment_id:uuid}",
    response_model=AssessmentRead,
    summary="Correct an assessment (If-Match required)",
    responses=CONDITIONAL,
)
async def update_assessment(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    body: AssessmentUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> AssessmentRead:
    updated = await service.update(
        uow, principal, household_id, assessment_id, body, expected_version(if_match)
    )
    set_etag(response, updated.id, updated.version)
    return updated


@router.delete(
    BASE + "/{assessment_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an assessment recorded by mistake (If-Match required)",
    responses=CONDITIONAL,
)
async def delete_assessment(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    await service.delete(uow, principal, household_id, assessment_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
