"""Households: ``/api/v1/households`` — register, list, search, read, update (lifecycle, address,
themes, confidentiality). Members, contacts and team access live in the sibling ``households_*``
routers. Every route writes one access-log row; a hidden household answers like a missing one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response, status

from app.api.auth import CaseReader, CaseWriter
from app.api.bsn import Bsn
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.assessments import intake
from app.domain.assessments.intake import IntakeCreate, IntakeCreated
from app.domain.households import service
from app.domain.households.models import HouseholdStatus
from app.domain.households.schemas import (
    HouseholdRead,
    HouseholdSearch,
    HouseholdUpdate,
)
from app.domain.households.service import HouseholdFilters
from app.domain.readmodel.household_list import household_page_json
from app.domain.text import SingleLine
from app.web.cursors import PageRequest

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

CREATE_ERRORS = problem_responses(409)
UPDATE_ERRORS = problem_responses(409, 412, 428)

HouseholdPage = Annotated[PageRequest[tuple[datetime, uuid.UUID]], keyset("households", datetime, uuid.UUID)]


@router.post(
    "/households",
    status_code=status.HTTP_201_CREATED,
    response_model=IntakeCreated,
    responses=CREATE_ERRORS,
    summary="Register a household (the quick intake)",
    description="The address is all it takes: the buurt follows from the municipality's postcode "
    "table (or `buurt_code`, which wins), the team from the buurt unless you give one of your teams. "
    "You become the coordinator. With `first_contact` (the intake's contact moment and your first "
    "note) the file starts at intake; `assessment` adds a first assessment. All in one transaction. "
    "The answer carries the `ETag` for later changes. Honours `Idempotency-Key`.",
)
async def create_household(
    response: Response,
    uow: UoW,
    principal: CaseWriter,
    body: IntakeCreate,
    bsn: Bsn,
    _: Idempotent,
) -> IntakeCreated:
    created = await intake.register(uow, principal, body, bsn)
    set_etag(response, created.id, created.version)
    response.headers["Location"] = f"/api/v1/households/{created.id}"
    return created


@router.get(
    "/households",
    response_model=Page[HouseholdRead],
    summary="List your households, newest first",
    description="Households of your teams (confidential ones only when you coordinate them or are "
    "assigned). Filters combine with AND.",
)
async def list_households(
    uow: UoW,
    principal: CaseReader,
    page: HouseholdPage,
    status_: Annotated[HouseholdStatus | None, Query(alias="status")] = None,
    buurt: Annotated[str | None, Query(pattern=r"^BU[0-9]{8}$", description="Buurt code.")] = None,
    coordinator: Annotated[uuid.UUID | None, Query(description="Coordinator's worker id.")] = None,
    theme: Annotated[SingleLine | None, Query(max_length=40, description="Theme code.")] = None,
    confidential: bool | None = None,
) -> Response:
    # The read model answers the page as JSON made by PostgreSQL, in one statement that also checks
    # access and writes the access-log row; its shape is ``Page[HouseholdRead]`` (response_model, for
    # the docs; a test checks the bytes against it).
    filters = HouseholdFilters(status_, buurt, coordinator, theme, confidential)
    found = await household_page_json(uow, principal, filters.given(), limit=page.limit, after=page.after)
    following = orjson.dumps(page.cursor_after(found.last))
    return Response(
        b'{"items":' + found.items + b',"next_cursor":' + following + b"}",
        media_type="application/json",
    )


@router.post(
    "/households/search",
    response_model=list[HouseholdRead],
    summary="Find households by BSN, reference or address",
    description="The criterion travels in the body so a BSN never appears in a URL or a log. Only "
    "households you may see are searched (at most 20 results).",
)
async def search_households(
    uow: UoW, principal: CaseReader, body: HouseholdSearch, bsn: Bsn
) -> list[HouseholdRead]:
    return await service.search_households(uow, principal, body, bsn)


@router.get("/households/{household_id:uuid}", response_model=HouseholdRead, summary="Read a household")
async def get_household(
    response: Response, uow: UoW, principal: CaseReader, household_id: uuid.UUID
) -> HouseholdRead:
    household = await service.get_household(uow, principal, household_id)
    set_etag(response, household.id, household.version)
    return household


@router.patch(
    "/households/{household_id:uuid}",
    response_model=HouseholdRead,
    responses=UPDATE_ERRORS,
    summary="Update a household (If-Match or expected_version required)",
    description="Status follows registered -> intake -> active -> aftercare -> closed (aftercare may "
    "return to active; any open status may close, with a closing_reason; closing the file closes its "
    "plan). Reopening a closed file (to intake) and lifting the confidential flag are for team leads. "
    "`themes` replaces the set. A new address takes the buurt the postcode table gives, unless "
    "`buurt_code` is sent. The version edited comes as `If-Match` or as `expected_version` in the body "
    "(e.g. the one the registration answered): no read is needed first.",
)
async def update_household(
    response: Response,
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    body: HouseholdUpdate,
    if_match: IfMatch = None,
) -> HouseholdRead:
    version = expected_version(if_match, body.expected_version)
    household = await service.update_household(uow, principal, household_id, body, version)
    set_etag(response, household.id, household.version)
    return household
