"""The worklist: ``/api/v1/worklist`` (what needs me) and ``/api/v1/worklist/team`` (a team lead's view
of every worker of the team, and the caseload). Answered as JSON made by PostgreSQL in one statement
that also writes the access-log row of every household shown (``app.domain.readmodel.worklist``). The
phone has the household items offline too: the sync entity ``worklist`` (``readmodel.sync_and_export``)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from app.api.auth import CaseAssigner, CaseReader
from app.api.deps import UoW
from app.api.pagination import keyset
from app.api.problems import PROBLEM_RESPONSES
from app.domain.assessments.rules import local_today
from app.domain.base import utcnow
from app.domain.readmodel.caseload import caseload_json
from app.domain.readmodel.worklist import View, WorklistFilter, WorklistPolicy, worklist_json
from app.domain.readmodel.worklist_schemas import TeamCaseload, WorkKind, WorklistPage
from app.web.cursors import PageRequest
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["worklist"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)

Key = tuple[date, str, uuid.UUID]
WorklistPageRequest = Annotated[PageRequest[Key], keyset("worklist", date, str, uuid.UUID)]
TeamPageRequest = Annotated[PageRequest[Key], keyset("team_worklist", date, str, uuid.UUID)]
KindFilter = Annotated[WorkKind | None, Query(description="Only items of this kind.")]
OverdueFilter = Annotated[bool, Query(description="Only items past their due date.")]


async def worklist_policy(request: Request) -> WorklistPolicy:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request for nothing.
    return WorklistPolicy.from_settings(request.app.state.settings)


Policy = Annotated[WorklistPolicy, Depends(worklist_policy)]


def _page(today: date, items: str, following: str | None) -> Response:
    body = b'{"today":' + orjson.dumps(today) + b',"items":' + items.encode()
    return Response(body + b',"next_cursor":' + orjson.dumps(following) + b"}", media_type="application/json")


@router.get(
    "/worklist",
    response_model=WorklistPage,
    summary="What needs you: the due items of your households",
    description="Your households (you coordinate them or are assigned) and your team's inbound "
    "referrals waiting for a decision: evaluations due, contact gaps (per tier), plans not agreed, "
    "referrals without a partner response, consents expiring, aftercare ending. Each item has a due "
    "date, links to its object and is listed from `show_from` on; soonest due first. Offline: the "
    "sync feed carries the same items per household (entity `worklist`, docs/offline-sync.md).",
)
async def my_worklist(
    uow: UoW,
    principal: CaseReader,
    policy: Policy,
    page: WorklistPageRequest,
    kind: KindFilter = None,
    overdue: OverdueFilter = False,
) -> Response:
    today = local_today(utcnow())
    found = await worklist_json(
        uow,
        principal,
        View.mine,
        policy,
        today,
        WorklistFilter(kind, overdue),
        limit=page.limit,
        after=page.after,
    )
    return _page(today, found.items, page.cursor_after(found.last))


@router.get(
    "/worklist/team",
    response_model=WorklistPage,
    summary="The team's worklist, per worker (team leads)",
    description="The items of every household of your teams you may see (confidential ones only where "
    "you are involved), with each item's coordinator; besides them break-glass uses to review and "
    "households without a coordinator. Filter by team, coordinator (or `unassigned`), kind and overdue.",
)
async def team_worklist(
    uow: UoW,
    principal: CaseAssigner,
    policy: Policy,
    page: TeamPageRequest,
    team_id: Annotated[uuid.UUID | None, Query(description="One of your teams (default: all).")] = None,
    coordinator: Annotated[uuid.UUID | None, Query(description="Only this worker's households.")] = None,
    unassigned: Annotated[bool, Query(description="Only households without a coordinator.")] = False,
    kind: KindFilter = None,
    overdue: OverdueFilter = False,
) -> Response:
    today = local_today(utcnow())
    filters = WorklistFilter(kind, overdue, team_id, coordinator, unassigned)
    found = await worklist_json(
        uow, principal, View.team, policy, today, filters, limit=page.limit, after=page.after
    )
    return _page(today, found.items, page.cursor_after(found.last))


@router.get(
    "/worklist/team/caseload",
    response_model=TeamCaseload,
    summary="Caseload per worker of your teams (team leads)",
    description="Open households per coordinator by status and 80-20-5 tier, and those without a "
    "coordinator (worker_id null). Counts of the households you may see.",
)
async def team_caseload(
    uow: UoW,
    principal: CaseAssigner,
    team_id: Annotated[uuid.UUID | None, Query(description="One of your teams (default: all).")] = None,
) -> Response:
    today = local_today(utcnow())
    workers = await caseload_json(uow, principal, team_id)
    body = b'{"today":' + orjson.dumps(today) + b',"workers":' + workers.encode() + b"}"
    return Response(body, media_type="application/json")
