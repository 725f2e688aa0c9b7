"""Setting up resident networks (wijknetwerken) for administrators: ``/api/v1/resident-networks``.

Scope ``admin`` only. Administrators create a network over buurten of a municipality with its first
members, rename it, change its buurten or its decision rules (quorum, resident share of a meeting,
anonymous voting), list networks with their buurten and member counts, and read a network's year plans
with their money (budget, granted, spent, returned, available and the ledger).
They never read members' names or contact details: those are for the network (GraphQL), and the
coordinators manage the members from there. Like the other set-up routes, these are not case data
and write no access-log rows.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.auth import Admin
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.initiatives import network_service as service
from app.domain.initiatives.schemas import (
    NetworkAdminRead,
    NetworkCreate,
    NetworkSetup,
    NetworkSummaryView,
    NetworkUpdate,
    YearPlanMoneyRead,
)
from app.web.cursors import PageRequest
from app.web.unit_of_work import WorkRoute

router = APIRouter(
    prefix="/resident-networks",
    tags=["resident networks"],
    responses=PROBLEM_RESPONSES,
    route_class=WorkRoute,
)

NetworkPage = Annotated[PageRequest[tuple[str, uuid.UUID]], keyset("resident_networks", str, uuid.UUID)]


def _read(response: Response, view: NetworkSummaryView) -> NetworkAdminRead:
    set_etag(response, view.network.id, view.network.version)
    return NetworkAdminRead.of(view)


@router.get("", response_model=Page[NetworkAdminRead], summary="List resident networks (by name)")
async def list_networks(
    uow: UoW,
    principal: Admin,
    page: NetworkPage,
    municipality_id: Annotated[
        uuid.UUID | None, Query(description="Only this municipality's networks.")
    ] = None,
) -> Page[NetworkAdminRead]:
    views = await service.list_network_summaries(
        uow, limit=page.fetch, after=page.after, municipality_id=municipality_id
    )
    return Page.cut(page, [NetworkAdminRead.of(v) for v in views], lambda n: (n.name, n.id))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=NetworkAdminRead,
    responses=problem_responses(409),
    summary="Create a network over buurten with its first members (at least half residents, a coordinator)",
)
async def create_network(
    response: Response, uow: UoW, principal: Admin, body: NetworkSetup
) -> NetworkAdminRead:
    data = NetworkCreate(municipality_id=body.municipality_id, name=body.name, buurten=body.buurten)
    created = await service.create_network(uow, data, body.members, at=("body",))
    view = await service.network_summary(uow, created.id)
    response.headers["Location"] = f"/api/v1/resident-networks/{created.id}"
    return _read(response, view)


@router.get(
    "/{network_id:uuid}",
    response_model=NetworkAdminRead,
    summary="Read a network: buurten and member counts (no member details)",
)
async def get_network(
    response: Response, uow: UoW, principal: Admin, network_id: uuid.UUID
) -> NetworkAdminRead:
    return _read(response, await service.network_summary(uow, network_id))


@router.patch(
    "/{network_id:uuid}",
    response_model=NetworkAdminRead,
    responses=problem_responses(409, 412, 428),
    summary="Rename a network, change its buurten or its decision rules (If-Match required)",
)
async def update_network(
    response: Response,
    uow: UoW,
    principal: Admin,
    network_id: uuid.UUID,
    body: NetworkUpdate,
    if_match: IfMatch = None,
) -> NetworkAdminRead:
    await service.update_network(uow, network_id, expected_version(if_match), body)
    return _read(response, await service.network_summary(uow, network_id))


@router.get(
    "/{network_id:uuid}/year-plans",
    response_model=list[YearPlanMoneyRead],
    summary="A network's year plans with budget, granted, spent, returned, available and the ledger",
    description="Newest first. The ledger is append-only; its amounts add up to the available budget.",
)
async def list_year_plans(uow: UoW, principal: Admin, network_id: uuid.UUID) -> list[YearPlanMoneyRead]:
    return await service.year_plan_money(uow, network_id)
