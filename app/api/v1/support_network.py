"""The informal network map of a household: ``/api/v1/households/{household_id}/network``.

(The resident networks of the initiatives side live elsewhere.)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status

from app.api.auth import CaseReader, CaseWriter
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES
from app.api.v1.assessments import CONDITIONAL, CONFLICT
from app.domain.support_network import service
from app.domain.support_network.schemas import NetworkPersonCreate, NetworkPersonRead, NetworkPersonUpdate
from app.web.cursors import PageRequest

router = APIRouter(tags=["network map"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

BASE = "/households/{household_id:uuid}/network"

NetworkPage = Annotated[
    PageRequest[tuple[datetime, uuid.UUID]], keyset("network_people", datetime, uuid.UUID)
]


@router.get(BASE, response_model=Page[NetworkPersonRead], summary="List the people on the network map")
async def list_network(
    uow: UoW, principal: CaseReader, household_id: uuid.UUID, page: NetworkPage
) -> Page[NetworkPersonRead]:
    people = await service.list_people(uow, principal, household_id, limit=page.fetch, after=page.after)
    return Page.cut(page, people, lambda p: (p.created_at, p.id))


@router.post(
    BASE,
    response_model=NetworkPersonRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a person (first name or role only) to the network map",
    responses=CONFLICT,
)
async def add_person(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    body: NetworkPersonCreate,
    response: Response,
    _: Idempotent,
) -> NetworkPersonRead:
    created = await service.create(uow, principal, household_id, body)
    set_etag(response, created.id, created.version)
    return created


@router.get(BASE + "/{person_id:uuid}", response_model=NetworkPersonRead, summary="Read a network person")
async def read_person(
    uow: UoW,
    principal: CaseReader,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    response: Response,
) -> NetworkPersonRead:
    found = await service.read(uow, principal, household_id, person_id)
    set_etag(response, found.id, found.version)
    return found


@router.patch(
    BASE + "/{person_id:uuid}",
    response_model=NetworkPersonRead,
    summary="Update a network person (If-Match required)",
    responses=CONDITIONAL,
)
async def update_person(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    body: NetworkPersonUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> NetworkPersonRead:
    updated = await service.update(uow, principal, household_id, person_id, body, expected_version(if_match))
    set_etag(response, updated.id, updated.version)
    return updated


@router.delete(
    BASE + "/{person_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a person from the network map (If-Match required)",
    responses=CONDITIONAL,
)
async def remove_person(
    uow: UoW,
    principal: CaseWriter,
    household_id: uuid.UUID,
    person_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    await service.delete(uow, principal, household_id, person_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
