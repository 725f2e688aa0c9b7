"""The sociale kaart for HSDS tools: Open Referral's HSDS 3.0 API reference under ``/hsds``.

The paths, parameters, paging and bodies of the specification's OpenAPI document
(``schema/openapi.json``, HSDS 3.0): ``/``, ``/services``, ``/services/{id}`` (required),
``/organizations``, ``/taxonomies``, ``/taxonomy_terms``, ``/service_at_locations`` and their
``/{id}`` (optional). Public services only, to every caller alike; no token is needed (one that is
sent is verified). Errors are Wijkwerk's problem+json (the specification defines none).
Anonymous answers are public and kept like the directory search's (``KeptHsdsAnswers``): a strong
ETag, 304 on If-None-Match, ``Cache-Control: public``, kept per process while the public data's
version holds; HSDS harvesters re-read the whole map often, and it changes rarely.
Not supported (422 naming the parameter): ``format=ndjson`` and ``proximity``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.api.auth import MaybeCaller
from app.api.deps import UoW
from app.api.kept_answers import hsds_answers
from app.api.pagination import NumberedPages
from app.api.problems import PROBLEM_RESPONSES
from app.domain.directory import publication
from app.domain.inputs import IsoDatetime
from app.domain.text import SingleLine
from app.web.answer_cache import AnswerCache, KeptAnonymousAnswers


class KeptHsdsAnswers(KeptAnonymousAnswers):
    """Every HSDS route: an anonymous read is answered from the HSDS read API's kept answers
    (``app.api.kept_answers``: apart from the search's, keyed by path and query string). Nothing here
    depends on the clock or the caller (public services only, to everyone), so every anonymous answer
    may be kept."""

    def answers(self, request: Request) -> AnswerCache:
        return hsds_answers(request)


router = APIRouter(prefix="/hsds", tags=["hsds"], responses=PROBLEM_RESPONSES, route_class=KeptHsdsAnswers)

Document = dict[str, Any]
Search = Annotated[SingleLine | None, Query(min_length=1, max_length=200, description="Full text search.")]
TaxonomyId = Annotated[
    SingleLine | None,
    Query(max_length=100, description="Search for services which contain any term with this taxonomy."),
]
Full = Annotated[bool, Query(description="Return fully nested objects.")]


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


async def service_query(
    search: Search = None,
    taxonomy_term_id: Annotated[
        SingleLine | None,
        Query(max_length=100, description="Search for services with particular taxonomy_term."),
    ] = None,
    taxonomy_id: TaxonomyId = None,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Search for services which this organization provides.")
    ] = None,
    modified_after: Annotated[
        IsoDatetime | None,
        Query(description="Return all results modified on or after this datetime (UTC when no zone)."),
    ] = None,
) -> publication.ServiceQuery:
    """The service filters that ``/services`` and ``/service_at_locations`` share."""
    return publication.ServiceQuery(
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        organization_id=organization_id,
        modified_after=_aware(modified_after),
    )


ServiceQuery = Annotated[publication.ServiceQuery, Depends(service_query)]


@router.get("", summary="HSDS API meta information (getAPIMetaInformation)", response_model=Document)
async def about(principal: MaybeCaller) -> Document:
    return publication.about()


@router.get(
    "/services",
    summary="Paginated list of services (getPaginatedListOfServices)",
    response_model=Document,
)
async def services(
    uow: UoW,
    principal: MaybeCaller,
    query: ServiceQuery,
    page: NumberedPages,
    minimal: Annotated[bool, Query(description="Return just each service's id and modified_date.")] = False,
    full: Full = False,
) -> Document:
    return await publication.services(uow, query, page, full=full, minimal=minimal)


@router.get(
    "/services/{id:uuid}",
    summary="Fully nested service by id (getFullyNestedServiceById)",
    response_model=Document,
)
async def service(id: uuid.UUID, uow: UoW, principal: MaybeCaller) -> Document:
    return await publication.service(uow, id)


@router.get(
    "/organizations",
    summary="Paginated list of organizations (getPaginatedListOfOrganizations)",
    response_model=Document,
)
async def organizations(
    uow: UoW,
    principal: MaybeCaller,
    page: NumberedPages,
    search: Search = None,
    full_service: Annotated[bool, Query(description="Organizations with their services' ids.")] = False,
    full: Full = False,
) -> Document:
    return await publication.organizations(uow, search, page, full=full or full_service)


@router.get(
    "/organizations/{id:uuid}", summary="Organization by id (getOrganizationById)", response_model=Document
)
async def organization(
    id: uuid.UUID,
    uow: UoW,
    principal: MaybeCaller,
    full_service: Annotated[bool, Query(description="Full services instead of their ids.")] = False,
) -> Document:
    return await publication.organization(uow, id, full_service=full_service)


@router.get(
    "/taxonomies",
    summary="Paginated list of taxonomies (getPaginatedListOfTaxonomies)",
    response_model=Document,
)
async def taxonomies(principal: MaybeCaller, page: NumberedPages, search: Search = None) -> Document:
    return publication.taxonomies(search, page)


@router.get("/taxonomies/{id:uuid}", summary="Taxonomy by id (getTaxonomyById)", response_model=Document)
async def taxonomy(id: uuid.UUID, principal: MaybeCaller) -> Document:
    return publication.taxonomy(str(id))


@router.get("/taxonomy_terms", summary="Paginated list of taxonomy terms", response_model=Document)
async def taxonomy_terms(
    uow: UoW,
    principal: MaybeCaller,
    page: NumberedPages,
    search: Search = None,
    taxonomy_id: TaxonomyId = None,
    top_only: Annotated[bool | None, Query(description="Only terms without child terms.")] = None,
    parent_id: Annotated[
        SingleLine | None, Query(max_length=100, description="Terms with this parent.")
    ] = None,
) -> Document:
    return await publication.taxonomy_terms(uow, search, taxonomy_id, top_only, parent_id, page)


@router.get("/taxonomy_terms/{id:uuid}", summary="Taxonomy term by id", response_model=Document)
async def taxonomy_term(id: uuid.UUID, uow: UoW, principal: MaybeCaller) -> Document:
    return await publication.taxonomy_term(uow, str(id))


@router.get(
    "/service_at_locations",
    summary="Paginated list of services at locations (getPaginatedListOfServiceAtLocation)",
    response_model=Document,
)
async def services_at_locations(
    uow: UoW,
    principal: MaybeCaller,
    query: ServiceQuery,
    page: NumberedPages,
    full: Full = False,
    postcode: Annotated[
        SingleLine | None,
        Query(max_length=10, description="Only locations with this postcode, e.g. 1234 AB."),
    ] = None,
) -> Document:
    return await publication.services_at_locations(uow, query, postcode, page, full=full)


@router.get(
    "/service_at_locations/{id:uuid}",
    summary="Service at location with nested data by id (getServiceAtLocationWithNestedDataById)",
    response_model=Document,
)
async def service_at_location(id: uuid.UUID, uow: UoW, principal: MaybeCaller) -> Document:
    return await publication.service_at_location(uow, id)
