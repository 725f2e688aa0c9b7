"""Self-sufficiency assessments of a household: ``/api/v1/households/{household_id}/assessments``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api.auth import CaseReader, CaseWriter
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import Session
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import CursorParam, Limit, Page, request_cursors
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.assessments import service
from app.domain.assessments.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AssessmentSummary,
    AssessmentUpdate,
)

router = APIRouter(tags=["assessments"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

BASE = "/households/{household_id}/assessments"
# Extra documented answers of case-file writes: a broken state rule, a stale or missing If-Match.
CONFLICT = problem_responses(409)
CONDITIONAL = problem_responses(409, 412, 428)


@router.get(BASE, response_model=Page[AssessmentRead], summary="List assessments, newest first")
async def list_assessments(
    request: Request,
    session: Session,
    principal: CaseReader,
    household_id: uuid.UUID,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member's assessments.")] = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Page[AssessmentRead]:
    cursors = request_cursors(request)
    items, last = await service.list_page(
        session,
        principal,
        household_id,
        member_id=member_id,
        after=cursors.decode_parts("assessments", cursor),
        limit=limit,
    )
    return Page(items=items, next_cursor=cursors.encode("assessments", last) if last else None)


@router.post(
    BASE,
    response_model=AssessmentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record an assessment (scores per life domain)",
    responses=CONFLICT,
)
async def create_assessment(
    session: Session,
    principal: CaseWriter,
    household_id: uuid.UUID,
    body: AssessmentCreate,
    response: Response,
    _: Idempotent,
) -> AssessmentRead:
    created = await service.create(session, principal, household_id, body)
    set_etag(response, created.id, created.version)
    return created


@router.get(
    BASE + "/latest",
    response_model=AssessmentSummary,
    summary="Latest score per life domain and the derived 80-20-5 tier",
)
async def latest_scores(
    session: Session,
    principal: CaseReader,
    household_id: uuid.UUID,
) -> AssessmentSummary:
    return await service.summary(session, principal, household_id)


@router.get(BASE + "/{assessment_id}", response_model=AssessmentRead, summary="Read an assessment")
async def read_assessment(
    session: Session,
    principal: CaseReader,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    response: Response,
) -> AssessmentRead:
    found = await service.read(session, principal, household_id, assessment_id)
    set_etag(response, found.id, found.version)
    return found


@router.patch(
    BASE + "/{assessment_id}",
    response_model=AssessmentRead,
    summary="Correct an assessment (If-Match required)",
    responses=CONDITIONAL,
)
async def update_assessment(
    session: Session,
    principal: CaseWriter,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    body: AssessmentUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> AssessmentRead:
    updated = await service.update(
        session, principal, household_id, assessment_id, body, expected_version(if_match).check
    )
    set_etag(response, updated.id, updated.version)
    return updated


@router.delete(
    BASE + "/{assessment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an assessment recorded by mistake (If-Match required)",
    responses=CONDITIONAL,
)
async def delete_assessment(
    session: Session,
    principal: CaseWriter,
    household_id: uuid.UUID,
    assessment_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    await service.delete(session, principal, household_id, assessment_id, expected_version(if_match).check)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
