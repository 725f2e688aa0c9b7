"""Offline sync for the team app: ``GET /api/v1/sync?cursor=`` (the rules: ``app.domain.sync.service``)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic_core import to_jsonable_python

from app.api.auth import CaseReader
from app.api.deps import UoW
from app.api.pagination import request_cursors
from app.api.problems import PROBLEM_RESPONSES
from app.domain.sync import service
from app.domain.sync.rules import SyncPosition
from app.domain.sync.schemas import SyncPage
from app.web.cursors import cursor_invalid
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["sync"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)

CURSOR_KIND = "sync"


@router.get(
    "/sync",
    response_model=SyncPage,
    summary="Changes in your caseload since your cursor",
    description="Without a cursor: your whole caseload (paged by household). With one: what changed "
    "since, as upserts (current state) and tombstones, including tombstones for households you can no "
    "longer see. Keep calling while `has_more`; store `cursor` for next time. On `reset: true`, wipe "
    "local case data first. Households opened only through break glass are never synced.",
)
async def sync(
    request: Request,
    uow: UoW,
    principal: CaseReader,
    cursor: Annotated[str | None, Query(max_length=1024, description="From the previous answer.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Households per page (changes: x10).")] = 50,
) -> Response:
    cursors = request_cursors(request)
    position = None
    if cursor is not None:
        position = SyncPosition.from_key(cursors.decode_parts(CURSOR_KIND, cursor) or [])
        if position is None:
            raise cursor_invalid()
    batch = await service.sync(uow, principal, position, limit=limit, settings=request.app.state.settings)
    # The upserts go out as PostgreSQL wrote them (a page holds hundreds of documents): the shape is
    # SyncPage (response_model, for the docs; a test checks the bytes against it).
    page = {
        "reset": batch.reset,
        "upserts": orjson.Fragment(batch.upserts),
        "tombstones": batch.tombstones,
        "cursor": cursors.encode(CURSOR_KIND, batch.position.to_key()),
        "has_more": batch.has_more,
    }
    body = orjson.dumps(page, default=to_jsonable_python, option=orjson.OPT_UTC_Z)  # as pydantic writes it
    return Response(content=body, media_type="application/json")
