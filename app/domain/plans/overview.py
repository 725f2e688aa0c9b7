"""The household overview use case: the access rule, one statement, the derived tier."""

from __future__ import annotations

import uuid

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.assessments.rules import derive_tier
from app.domain.audit.models import AccessAction, AccessOutcome
from app.domain.errors import NotFound
from app.domain.households.access import get_visible
from app.domain.households.repository import HotReads, takes_hot_path
from app.domain.households.service import access_entry, log_apart, logged_read
from app.domain.plans import overview_repository as repo
from app.security.principal import Principal

RESOURCE = "household_overview"


async def overview_json(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> bytes:
    """The overview as ready-to-send JSON bytes (shape: ``HouseholdOverview``)."""
    await get_visible(session, principal, household_id, resource=RESOURCE, action=AccessAction.read)
    return _with_tier(*await repo.overview(session, household_id))


async def checked_overview_json(
    hot: HotReads, principal: Principal, household_id: uuid.UUID, request_id: str | None
) -> bytes:
    """``overview_json`` in one statement (the same check, document and access-log row), for the route."""
    entry = access_entry(
        principal, request_id, resource=RESOURCE, action=AccessAction.read, household_id=household_id
    )
    found = None
    if takes_hot_path(principal):
        assert principal.worker_id is not None
        found = await logged_read(
            hot.engine, entry, repo.checked_overview(hot, principal.worker_id, household_id, entry)
        )
    else:  # visible_to is false for anyone else: a denial, logged like get_visible logs it
        entry["outcome"] = str(AccessOutcome.denied)
        await log_apart(hot.engine, entry)
    if found is None:
        raise NotFound("household")
    return _with_tier(*found)


def _with_tier(scores: list[int], body: str) -> bytes:
    # The document is a JSON object: put the tier in front of its first member.
    return b'{"tier":' + orjson.dumps(derive_tier(scores)) + b"," + body[1:].encode()
