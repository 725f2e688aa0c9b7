"""``GET /api/v1/households/{household_id}/overview``: the team app's household screen in one request.

The hot read path: one statement checks access, writes the access-log row and has PostgreSQL build
the JSON; the bytes go out as they are. ``response_model`` keeps the shape in the OpenAPI document
(a test validates the bytes against it).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.api.deps import Requires
from app.api.problems import PROBLEM_RESPONSES
from app.api.v1.households_access import CaseRoute
from app.domain.plans.overview import checked_overview_json
from app.domain.plans.overview_schemas import HouseholdOverview
from app.security.scopes import Scope

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=CaseRoute)


@router.get(
    "/households/{household_id}/overview",
    response_model=HouseholdOverview,
    summary="One screen of the case file: members, scores and tier, plan, contacts, themes, network",
)
async def household_overview(
    request: Request,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
) -> Response:
    # No unit of work: one statement checks, logs and reads (overview.checked_overview_json).
    body = await checked_overview_json(
        request.app.state.hot_reads, principal, household_id, getattr(request.state, "request_id", None)
    )
    return Response(content=body, media_type="application/json")
