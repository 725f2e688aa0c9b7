"""The sociale kaart for HSDS tools: Open Referral's HSDS 3.0 API reference under ``/hsds``.

The paths, parameters, paging and bodies of the specification's OpenAPI document
(``schema/openapi.json``, HSDS 3.0): ``/``, ``/services``, ``/services/{id}`` (required),
``/organizations``, ``/taxonomies``, ``/taxonomy_terms``, ``/service_at_locations`` and their
``/{id}`` (optional). Public services only, to every caller alike; no token is needed (one that is
sent is verified). Errors are Wijkwerk's problem+json (the specification defines none).
Not supported (422 naming the parameter): ``format=ndjson`` and ``proximity``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app.api.auth import MaybeCaller
from app.api.deps import UoW
from app.api.problems import PROBLEM_RESPONSES
from app.domain.directory import publication
from app.domain.inputs import IsoDatetime
from app.domain.text import SingleLine

router = APIRouter(prefix="/hsds", tags=["hsds"], responses=PROBLEM_RESPONSES)

Document = dict[str, Any]
Search = Annotated[SingleLine | None, Query(min_length=1, max_length=200, description="Full text search.")]
PageNumber = Annotated[int, Query(ge=1, le=100_000, description="Page number of paginated result (from 1).")]
PerPage = Annotated[int, Query(ge=1, le=100, description="Number of results requested in a single page.")]
Format = Annotated[
    Literal["json"],
    Query(description="Return results in the specified format: `json` (ndjson is not offered)."),
]
TermId = Annotated[
    SingleLine | None, Query(max_length=100, description="Search for services with particular taxonomy_term.")
]
TaxonomyId = Annotated[
    SingleLine | None,
    Query(max_length=100, description="Search for services which contain any term with this taxonomy."),
]
OrganizationId = Annotated[
    uuid.UUID | None, Query(description="Search for services which this organization provides.")
]
ModifiedAfter = Annotated[
    IsoDatetime | None,
    Query(description="Return all results modified on or after this datetime (UTC when no zone)."),
]
Full = Annotated[bool, Query(description="Return fully nested objects.")]


def _paging(page: int, per_page: int) -> publication.Paging:
    return publication.Paging(page, per_page)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


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
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    format: Format = "json",
    taxonomy_term_id: TermId = None,
    taxonomy_id: TaxonomyId = None,
    organization_id: OrganizationId = None,
    modified_after: ModifiedAfter = None,
    minimal: Annotated[bool, Query(description="Return just each service's id and modified_date.")] = False,
    full: Full = False,
) -> Document:
    flt = await publication.public_filter(
        uow,
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        organization_id=organization_id,
        modified_after=_aware(modified_after),
    )
    return await publication.services(uow, flt, _paging(page, per_page), full=full, minimal=minimal)


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
    search: Search = None,
    full_service: Annotated[bool, Query(description="Organizations with their services' ids.")] = False,
    full: Full = False,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    format: Format = "json",
) -> Document:
    return await publication.organizations(uow, search, _paging(page, per_page), full=full or full_service)


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
async def taxonomies(
    uow: UoW,
    principal: MaybeCaller,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    format: Format = "json",
) -> Document:
    return await publication.taxonomies(uow, search, _paging(page, per_page))


@router.get("/taxonomies/{id:uuid}", summary="Taxonomy by id (getTaxonomyById)", response_model=Document)
async def taxonomy(id: uuid.UUID, principal: MaybeCaller) -> Document:
    return publication.taxonomy(str(id))


@router.get("/taxonomy_terms", summary="Paginated list of taxonomy terms", response_model=Document)
async def taxonomy_terms(
    uow: UoW,
    principal: MaybeCaller,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    format: Format = "json",
    taxonomy_id: TaxonomyId = None,
    top_only: Annotated[bool | None, Query(description="Only terms without child terms.")] = None,
    parent_id: Annotated[
        SingleLine | None, Query(max_length=100, description="Terms with this parent.")
    ] = None,
) -> Document:
    return await publication.taxonomy_terms(
        uow, search, taxonomy_id, top_only, parent_id, _paging(page, per_page)
    )


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
    search: Search = None,
    taxonomy_term_id: TermId = None,
    taxonomy_id: TaxonomyId = None,
    organization_id: OrganizationId = None,
    modified_after: ModifiedAfter = None,
    full: Full = False,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    format: Format = "json",
    postcode: Annotated[
        SingleLine | None,
        Query(max_length=10, description="Only locations with this postcode, e.g. 1234 AB."),
    ] = None,
) -> Document:
    flt = await publication.public_filter(
        uow,
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        organization_id=organization_id,
        modified_after=_aware(modified_after),
        postcode=postcode,
    )
    return await publication.services_at_locations(uow, flt, _paging(page, per_page), full=full)


@router.get(
    "/service_at_locations/{id:uuid}",
    summary="Service at location with nested data by id (getServiceAtLocationWithNestedDataById)",
    response_model=Document,
)
async def service_at_location(id: uuid.UUID, uow: UoW, principal: MaybeCaller) -> Document:
    return await publication.service_at_location(uow, id)
