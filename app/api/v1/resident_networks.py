"""Setting up resident networks (wijknetwerken) for administrators: ``/api/v1/resident-networks``.

Scope ``admin`` only. Administrators create a network over buurten of a municipality with its first
members, rename it or change its buurten, and list networks with their buurten and member counts.
They never read members' names or contact details: those are for the network (GraphQL), and the
coordinators manage the members from there. Like the other set-up routes, these are not case data
and write no access-log rows.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import Session
from app.api.pagination import Page
from app.api.problems import PROBLEM_RESPONSES
from app.api.v1.assessments import CONDITIONAL, CONFLICT
from app.api.v1.case_helpers import CursorPage, PageRequest
from app.api.v1.organisation import Admin
from app.domain.errors import FieldError, ValidationFailed
from app.domain.initiatives import network_service as service
from app.domain.initiatives.schemas import NetworkAdminRead, NetworkCreate, NetworkSetup, NetworkUpdate

router = APIRouter(prefix="/resident-networks", tags=["resident networks"], responses=PROBLEM_RESPONSES)

PageKey = tuple[str, uuid.UUID]


def _after(page: PageRequest) -> PageKey | None:
    """The (name, id) key a cursor of this list carries; 422 for a cursor of another list."""
    if page.after is None:
        return None
    try:
        kind, name, network_id = page.after
        if kind != "rn" or not isinstance(name, str):
            raise ValueError("not a cursor of this list")
        return name, uuid.UUID(network_id)
    except (TypeError, ValueError) as error:
        raise ValidationFailed(
            [FieldError(("query", "cursor"), "The cursor is not valid.", "cursor_invalid")]
        ) from error


def _read(response: Response, view: Any) -> NetworkAdminRead:
    set_etag(response, view.network.id, view.network.version)
    return NetworkAdminRead.of(view)


@router.get("", response_model=Page[NetworkAdminRead], summary="List resident networks (by name)")
async def list_networks(
    session: Session,
    principal: Admin,
    page: CursorPage,
    municipality_id: Annotated[
        uuid.UUID | None, Query(description="Only this municipality's networks.")
    ] = None,
) -> Page[NetworkAdminRead]:
    views, key = await service.list_network_summaries(session, municipality_id, _after(page), page.limit)
    return page.of([NetworkAdminRead.of(v) for v in views], ["rn", key[0], str(key[1])] if key else None)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=NetworkAdminRead,
    responses=CONFLICT,
    summary="Create a network over buurten with its first members (at least half residents, a coordinator)",
)
async def create_network(
    body: NetworkSetup, response: Response, session: Session, principal: Admin
) -> NetworkAdminRead:
    data = NetworkCreate(municipality_id=body.municipality_id, name=body.name, buurten=body.buurten)
    created = await service.create_network(session, data, body.members, at=("body",))
    view = await service.network_summary(session, created.id)
    response.headers["Location"] = f"/api/v1/resident-networks/{created.id}"
    return _read(response, view)


@router.get(
    "/{network_id}",
    response_model=NetworkAdminRead,
    summary="Read a network: buurten and member counts (no member details)",
)
async def get_network(
    network_id: uuid.UUID, response: Response, session: Session, principal: Admin
) -> NetworkAdminRead:
    return _read(response, await service.network_summary(session, network_id))


@router.patch(
    "/{network_id}",
    response_model=NetworkAdminRead,
    responses=CONDITIONAL,
    summary="Rename a network or change its buurten (If-Match required)",
)
async def update_network(
    network_id: uuid.UUID,
    body: NetworkUpdate,
    response: Response,
    session: Session,
    principal: Admin,
    if_match: IfMatch = None,
) -> NetworkAdminRead:
    await service.update_network(session, network_id, expected_version(if_match), body)
    return _read(response, await service.network_summary(session, network_id))
