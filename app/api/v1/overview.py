"""``GET /api/v1/households/{household_id}/overview``: the team app's household screen in one request.

Answered by the read model (``app.domain.readmodel.overview``): one statement checks access, writes
the access-log row and has PostgreSQL build the JSON; the bytes go out as they are.
``response_model`` keeps the shape in the OpenAPI document (a test validates the bytes against it).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.api.auth import CaseReader
from app.api.deps import UoW
from app.api.problems import PROBLEM_RESPONSES
from app.domain.readmodel.overview import overview_json
from app.domain.readmodel.overview_schemas import HouseholdOverview
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)


@router.get(
    "/households/{household_id:uuid}/overview",
    response_model=HouseholdOverview,
    summary="One screen of the case file: members, scores and tier, plan, contacts, themes, network",
)
async def household_overview(uow: UoW, principal: CaseReader, household_id: uuid.UUID) -> Response:
    return Response(content=await overview_json(uow, principal, household_id), media_type="application/json")
