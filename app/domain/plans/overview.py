"""The household overview use case: the access rule, one statement, the derived tier."""

from __future__ import annotations

import uuid

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.domain.assessments.rules import derive_tier
from app.domain.audit.models import AccessAction
from app.domain.households.access import get_visible
from app.domain.plans import overview_repository as repo

RESOURCE = "household_overview"


async def overview_json(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> bytes:
    """The overview as ready-to-send JSON bytes (shape: ``HouseholdOverview``)."""
    await get_visible(session, principal, household_id, resource=RESOURCE, action=AccessAction.read)
    scores, body = await repo.overview(session, household_id)
    tier = derive_tier(scores)
    # The document is a JSON object: put the tier in front of its first member.
    return b'{"tier":' + orjson.dumps(tier) + b"," + body[1:].encode()
