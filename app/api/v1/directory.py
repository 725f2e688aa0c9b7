"""The sociale kaart: organisations, locations and services (shaped like HSDS 3.0), searched by
workers and read by anyone where public.

Maintenance takes ``services:write``: the administrator holds it for every entry, a partner's client
for its own organisation's only (the object rule in the service; another's entry answers 404).
Updates need ``If-Match`` with the ETag read. Reading needs no token: anonymous callers see public
services (never internal notes); workers (``cases:read``) and administrators see everything. The
stale worklist is the administrator's.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from app.api.auth import Admin, DirectoryWriter, MaybeCaller
from app.api.concurrency import IfMatch, expected_version, set_etag
from app.api.deps import UoW
from app.api.kept_answers import directory_answers
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES
from app.domain.directory import search_page, service
from app.domain.directory.repository import SearchFilter, SearchKey
from app.domain.directory.schemas import (
    AssuranceIn,
    LocationCreate,
    LocationRead,
    LocationUpdate,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
    ServiceCreate,
    ServiceHit,
    ServiceRead,
    ServiceUpdate,
)
from app.domain.initiatives.schemas import InitiativePublic
from app.domain.text import SingleLine
from app.web.answer_cache import AnswerCache, KeptAnonymousAnswers
from app.web.cursors import PageRequest
from app.web.unit_of_work import WorkRoute

router = APIRouter(
    prefix="/directory", tags=["directory"], responses=PROBLEM_RESPONSES, route_class=WorkRoute
)


class KeptAnonymousSearches(KeptAnonymousAnswers):
    """The search's route: an anonymous search is answered by the directory's answer cache
    (``app.web.answer_cache.KeptAnonymousAnswers``: public, a strong ETag, 304s, kept per process
    while the public data's version holds) before FastAPI parses its parameters. Never kept: a
    signed-in caller's answer (it may show internal notes and non-public services) and an
    ``open_now`` search (it depends on the clock). The key is the path and query string (a route
    added to this router later gets answers of its own) and the date (the "stale" flags depend on
    it)."""

    def answers(self, request: Request) -> AnswerCache:
        return directory_answers(request)

    async def key(self, request: Request) -> str | None:
        if "open_now" in request.query_params:
            return None
        stale_before = (await directory_calendar(request)).stale_before()
        return f"{await super().key(request)}|{stale_before.isoformat()}"


# The public search has a router of its own because its route class differs: a kept anonymous answer
# is served before FastAPI parses the search's parameters (``KeptAnonymousSearches``).
search = APIRouter(
    prefix="/directory", tags=["directory"], responses=PROBLEM_RESPONSES, route_class=KeptAnonymousSearches
)

OrganizationPage = Annotated[
    PageRequest[tuple[str, uuid.UUID]], keyset("directory_organizations", str, uuid.UUID)
]
SearchPage = Annotated[PageRequest[SearchKey], keyset("directory_services", int, float, str, uuid.UUID)]
StalePage = Annotated[PageRequest[tuple[date, uuid.UUID]], keyset("directory_stale", date, uuid.UUID)]
OfferPage = Annotated[
    PageRequest[tuple[datetime, uuid.UUID]], keyset("community_offers", datetime, uuid.UUID)
]
BuurtCode = Annotated[str, Query(pattern=r"^BU\d{8}$", description="Buurt code, e.g. BU03630001.")]
Code = Annotated[SingleLine | None, Query(max_length=40)]


# async: FastAPI runs a plain ``def`` dependency in a worker thread, which costs more than the work.
async def directory_calendar(request: Request) -> service.Calendar:
    settings = request.app.state.settings
    return service.Calendar(settings.directory_stale_months, ZoneInfo(settings.directory_time_zone))


Calendar = Annotated[service.Calendar, Depends(directory_calendar)]


# -- organisations ---------------------------------------------------------------------------------


@router.get("/organizations", response_model=Page[OrganizationRead], summary="List organisations (public)")
async def list_organizations(
    uow: UoW, principal: MaybeCaller, page: OrganizationPage
) -> Page[OrganizationRead]:
    rows = await service.list_organizations(uow, limit=page.fetch, after=page.after)
    return Page.cut(page, rows, lambda o: (o.name, o.id))


@router.post(
    "/organizations", status_code=201, response_model=OrganizationRead, summary="Add an organisation"
)
async def create_organization(
    body: OrganizationCreate, uow: UoW, principal: DirectoryWriter, response: Response
) -> OrganizationRead:
    created = await service.create_organization(uow, principal, body)
    set_etag(response, created.id, created.version)
    return created


@router.get(
    "/organizations/{organization_id:uuid}",
    response_model=OrganizationRead,
    summary="One organisation (public)",
)
async def get_organization(
    organization_id: uuid.UUID, uow: UoW, principal: MaybeCaller, response: Response
) -> OrganizationRead:
    found = await service.get_organization(uow, organization_id)
    set_etag(response, found.id, found.version)
    return found


@router.patch(
    "/organizations/{organization_id:uuid}", response_model=OrganizationRead, summary="Change an organisation"
)
async def update_organization(
    organization_id: uuid.UUID,
    body: OrganizationUpdate,
    uow: UoW,
    principal: DirectoryWriter,
    response: Response,
    if_match: IfMatch = None,
) -> OrganizationRead:
    updated = await service.update_organization(
        uow, principal, organization_id, body, expected_version(if_match)
    )
    set_etag(response, updated.id, updated.version)
    return updated


# -- locations -------------------------------------------------------------------------------------


@router.post("/locations", status_code=201, response_model=LocationRead, summary="Add a location")
async def create_location(
    body: LocationCreate, uow: UoW, principal: DirectoryWriter, response: Response
) -> LocationRead:
    created = await service.create_location(uow, principal, body)
    set_etag(response, created.id, created.version)
    return created


@router.get("/locations/{location_id:uuid}", response_model=LocationRead, summary="One location (public)")
async def get_location(
    location_id: uuid.UUID, uow: UoW, principal: MaybeCaller, response: Response
) -> LocationRead:
    found = await service.get_location(uow, location_id)
    set_etag(response, found.id, found.version)
    return found


@router.patch("/locations/{location_id:uuid}", response_model=LocationRead, summary="Change a location")
async def update_location(
    location_id: uuid.UUID,
    body: LocationUpdate,
    uow: UoW,
    principal: DirectoryWriter,
    response: Response,
    if_match: IfMatch = None,
) -> LocationRead:
    updated = await service.update_location(uow, principal, location_id, body, expected_version(if_match))
    set_etag(response, updated.id, updated.version)
    return updated


# -- services --------------------------------------------------------------------------------------


@search.get(
    "/services",
    response_model=Page[ServiceHit],
    summary="Search services",
    description="Filters combine with AND. With `neighbourhood`, services offered at a place in the buurt "
    "come first, then those serving the buurt, its wijk, the whole municipality; then the best text "
    "match (Dutch full-text search), then the name. Defunct services are left out. Anonymous callers "
    "see public services; workers and administrators also the others, with internal notes. "
    "An anonymous search without `open_now` is public: `Cache-Control: public, max-age`, a strong "
    "`ETag`, and `304` for an `If-None-Match` naming it; the server shows a change to the directory on "
    "the next request (with a read replica, once the replica has it), a browser or CDN after the "
    "`max-age` at most.",
    responses={304: {"description": "Not Modified: the `ETag` named in `If-None-Match` is current."}},
)
async def search_services(
    uow: UoW,
    principal: MaybeCaller,
    page: SearchPage,
    calendar: Calendar,
    q: Annotated[
        SingleLine | None, Query(min_length=1, max_length=200, description="Search text (Dutch).")
    ] = None,
    theme: Code = None,
    life_domain: Code = None,
    neighbourhood: Annotated[
        str | None, Query(pattern=r"^BU\d{8}$", description="Buurt code: services serving it, nearest first.")
    ] = None,
    age: Annotated[int | None, Query(ge=0, le=120, description="Only services for someone this old.")] = None,
    free: Annotated[bool | None, Query(description="true: only free of charge.")] = None,
    open_now: Annotated[bool | None, Query(description="true: only services open right now.")] = None,
    organization_id: Annotated[uuid.UUID | None, Query(description="Only this organisation's.")] = None,
    municipality: Annotated[
        str | None, Query(pattern=r"^GM\d{4}$", description="Municipality code, e.g. GM0363.")
    ] = None,
) -> Response:
    flt = SearchFilter(
        text=q,
        theme=theme,
        life_domain=life_domain,
        neighbourhood=neighbourhood,
        age=age,
        free=free,
        open_at=service.open_at(calendar) if open_now else None,
        organization_id=organization_id,
        municipality=municipality,
    )
    # PostgreSQL writes the page's JSON (``search_page``); its shape is ``Page[ServiceHit]``
    # (response_model, for the docs; a test checks it against the model path).
    found = await search_page.search_services_json(
        uow, principal, flt, calendar.stale_before(), page_size=page.limit, after=page.after
    )
    following = orjson.dumps(page.cursor_after(found.last))
    return Response(
        b'{"items":' + found.items + b',"next_cursor":' + following + b"}", media_type="application/json"
    )


@router.post("/services", status_code=201, response_model=ServiceRead, summary="Add a service")
async def create_service(
    body: ServiceCreate, uow: UoW, principal: DirectoryWriter, calendar: Calendar, response: Response
) -> ServiceRead:
    created = await service.create_service(uow, principal, body, calendar)
    set_etag(response, created.id, created.version)
    return created


@router.get(
    "/services/{service_id:uuid}",
    response_model=ServiceRead,
    summary="One service",
    description="404 for a non-public service unless you are a worker, an administrator or its organisation.",
)
async def get_service(
    service_id: uuid.UUID, uow: UoW, principal: MaybeCaller, calendar: Calendar, response: Response
) -> ServiceRead:
    found = await service.get_service(uow, principal, service_id, calendar)
    set_etag(response, found.id, found.version)
    return found


@router.patch("/services/{service_id:uuid}", response_model=ServiceRead, summary="Change a service")
async def update_service(
    service_id: uuid.UUID,
    body: ServiceUpdate,
    uow: UoW,
    principal: DirectoryWriter,
    calendar: Calendar,
    response: Response,
    if_match: IfMatch = None,
) -> ServiceRead:
    updated = await service.update_service(
        uow, principal, service_id, body, expected_version(if_match), calendar
    )
    set_etag(response, updated.id, updated.version)
    return updated


@router.post(
    "/services/{service_id:uuid}/assurance",
    response_model=ServiceRead,
    summary="Record that a service was verified today",
)
async def assure_service(
    service_id: uuid.UUID,
    body: AssuranceIn,
    uow: UoW,
    principal: DirectoryWriter,
    calendar: Calendar,
    response: Response,
    if_match: IfMatch = None,
) -> ServiceRead:
    updated = await service.assure_service(
        uow, principal, service_id, body, expected_version(if_match), calendar
    )
    set_etag(response, updated.id, updated.version)
    return updated


@router.get(
    "/stale",
    response_model=Page[ServiceRead],
    summary="Services to verify (administrator)",
    description="Services never verified or not verified for the configured number of months "
    "(`WIJKWERK_DIRECTORY_STALE_MONTHS`), the longest unverified first.",
)
async def stale_services(
    uow: UoW, principal: Admin, page: StalePage, calendar: Calendar
) -> Page[ServiceRead]:
    found = await service.stale_services(uow, calendar, limit=page.fetch, after=page.after)
    keys = {s.id: key for s, key in found}
    return Page.cut(page, [s for s, _ in found], lambda s: keys[s.id])


@router.get(
    "/community-offers",
    response_model=Page[InitiativePublic],
    summary="Running resident initiatives of a buurt (public)",
    description="What residents offer each other in the buurt: its running initiatives, read live "
    "from the resident initiatives.",
)
async def community_offers(
    uow: UoW, principal: MaybeCaller, page: OfferPage, neighbourhood: BuurtCode, theme: Code = None
) -> Page[InitiativePublic]:
    views = await service.community_offers(
        uow, principal, neighbourhood, theme, limit=page.fetch, after=page.after
    )
    items, following = page.cut(views, lambda v: (v.created_at, v.id))
    return Page(items=[InitiativePublic.of(v) for v in items], next_cursor=following)
