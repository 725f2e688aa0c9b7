"""Households: ``/api/v1/households`` — register, list, search, read, update (lifecycle, address,
themes, confidentiality). Members, contacts and team access live in the sibling ``households_*``
routers. Every route writes one access-log row; a hidden household answers like a missing one."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response, status

from app.api.concurrency import IfMatch, set_etag
from app.api.deps import Requires, Session
from app.api.idempotency import Idempotent
from app.api.pagination import CursorParam, Limit, Page
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.api.v1.households_access import (
    CaseRoute,
    bsn_protector,
    cursor_secret,
    decode_time_cursor,
    encode_time_cursor,
    precondition,
)
from app.domain.households import service
from app.domain.households.models import HouseholdStatus
from app.domain.households.schemas import (
    HouseholdCreate,
    HouseholdCreated,
    HouseholdRead,
    HouseholdSearch,
    HouseholdUpdate,
)
from app.domain.households.service import HouseholdFilters
from app.security.scopes import Scope

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=CaseRoute)

CREATE_ERRORS = problem_responses(409)
UPDATE_ERRORS = problem_responses(409, 412, 428)


@router.post(
    "/households",
    status_code=status.HTTP_201_CREATED,
    response_model=HouseholdCreated,
    responses=CREATE_ERRORS,
    summary="Register a household",
    description="The reference is made by the server; the team is the one covering the buurt unless "
    "you give one of your teams. You become the coordinator. Honours `Idempotency-Key`.",
)
async def create_household(
    request: Request,
    response: Response,
    session: Session,
    principal: Requires(Scope.cases_write),  # type: ignore[valid-type]
    body: HouseholdCreate,
    _: Idempotent,
) -> HouseholdCreated:
    created = await service.create_household(session, principal, body, bsn_protector(request))
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
    request: Request,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    status_: Annotated[HouseholdStatus | None, Query(alias="status")] = None,
    buurt: Annotated[str | None, Query(pattern=r"^BU[0-9]{8}$", description="Buurt code.")] = None,
    coordinator: Annotated[uuid.UUID | None, Query(description="Coordinator's worker id.")] = None,
    theme: Annotated[str | None, Query(max_length=40, description="Theme code.")] = None,
    confidential: bool | None = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Response:
    # The hot read path: one statement lists, logs and builds the JSON (no unit of work); the page is
    # ``Page[HouseholdRead]`` (response_model, for the docs; a test checks the bytes against it).
    secret = cursor_secret(request)
    page = await service.list_households_page(
        request.app.state.hot_reads,
        principal,
        HouseholdFilters(status_, buurt, coordinator, theme, confidential),
        limit=limit,
        after=decode_time_cursor(cursor, secret),
        request_id=getattr(request.state, "request_id", None),
    )
    following = encode_time_cursor(*page.last, secret) if page.last else None
    body = b'{"items":' + page.items.encode() + b',"next_cursor":' + orjson.dumps(following) + b"}"
    return Response(content=body, media_type="application/json")


@router.post(
    "/households/search",
    response_model=list[HouseholdRead],
    summary="Find households by BSN, reference or address",
    description="The criterion travels in the body so a BSN never appears in a URL or a log. Only "
    "households you may see are searched (at most 20 results).",
)
async def search_households(
    request: Request,
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    body: HouseholdSearch,
) -> list[HouseholdRead]:
    return await service.search_households(session, principal, body, bsn_protector(request))


@router.get("/households/{household_id}", response_model=HouseholdRead, summary="Read a household")
async def get_household(
    response: Response,
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
) -> HouseholdRead:
    household = await service.get_household(session, principal, household_id)
    set_etag(response, household.id, household.version)
    return household


@router.patch(
    "/households/{household_id}",
    response_model=HouseholdRead,
    responses=UPDATE_ERRORS,
    summary="Update a household (If-Match required)",
    description="Status follows registered -> intake -> active -> aftercare -> closed (aftercare may "
    "return to active; any open status may close, with a closing_reason). Reopening a closed file "
    "(to intake) and lifting the confidential flag are for team leads. `themes` replaces the set.",
)
async def update_household(
    response: Response,
    session: Session,
    principal: Requires(Scope.cases_write),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    body: HouseholdUpdate,
    if_match: IfMatch = None,
) -> HouseholdRead:
    household = await service.update_household(session, principal, household_id, body, precondition(if_match))
    set_etag(response, household.id, household.version)
    return household
