"""``GET /api/v1/households/{household_id}/overview``: the team app's household screen in one request.

The hot read path: PostgreSQL builds the JSON and the bytes go out as they are; ``response_model``
keeps the shape in the OpenAPI document (a test validates the bytes against it).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.api.deps import Requires, Session
from app.api.problems import PROBLEM_RESPONSES
from app.api.v1.households_access import CaseRoute
from app.auth.scopes import Scope
from app.domain.plans.overview import overview_json
from app.domain.plans.overview_schemas import HouseholdOverview

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=CaseRoute)


@router.get(
    "/households/{household_id}/overview",
    response_model=HouseholdOverview,
    summary="One screen of the case file: members, scores and tier, plan, contacts, themes, network",
)
async def household_overview(
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
) -> Response:
    body = await overview_json(session, principal, household_id)
    return Response(content=body, media_type="application/json")
