"""The sociale kaart as an HSDS 3.0 API: the use cases behind ``/hsds`` (Open Referral's API reference).

Only public services are published, to everyone alike (the HSDS API has no notion of a caller): no
internal notes, no non-public service, no service of an organisation that is only reachable through
non-public entries. Organisations and locations are public in Wijkwerk anyway. Lists are numbered
pages (``page`` from 1, ``per_page``) with HSDS's page fields; query parameters combine with AND.

Everything here reads through ``uow.reading()``: on a streaming replica when one is usable, else on
the primary. The directory is published, not case data; a few seconds' lag is fine for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.directory import hsds
from app.domain.directory import hsds_repository as pub
from app.domain.directory import repository as repo
from app.domain.errors import NotFound
from app.domain.inputs import NumberedPage
from app.domain.unit_of_work.work import UnitOfWork

Json = hsds.Json


@dataclass(frozen=True)
class ServiceQuery:
    """The service filters of HSDS's ``/services`` and ``/service_at_locations``, as sent."""

    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: uuid.UUID | None = None
    modified_after: datetime | None = None


@dataclass(frozen=True)
class Vocabulary:
    """Our reference lists as HSDS taxonomy terms, by id and by (taxonomy, code)."""

    terms: list[hsds.Term]

    @property
    def by_code(self) -> dict[tuple[str, str], hsds.Term]:
        return {(t.taxonomy.key, t.code): t for t in self.terms}

    def term(self, term_id: str) -> hsds.Term | None:
        return next((t for t in self.terms if t.id == term_id), None)


async def vocabulary(session: AsyncSession) -> Vocabulary:
    themes, domains = await pub.reference_lists(session)
    return Vocabulary(hsds.terms(themes, domains))


def _taxonomy(taxonomy_id: str) -> hsds.Taxonomy | None:
    return next((t for t in hsds.TAXONOMIES if t.id == taxonomy_id), None)


def about() -> Json:
    """``GET /``: the HSDS version and the OpenAPI document this API follows."""
    return {"version": hsds.HSDS_VERSION, "openapi_url": hsds.OPENAPI_URL}


async def public_filter(
    session: AsyncSession, query: ServiceQuery, postcode: str | None = None
) -> pub.PublicFilter | None:
    """The filter the parameters name; None when a term or taxonomy is unknown (nothing matches)."""
    term = None
    if query.taxonomy_term_id is not None:
        found = (await vocabulary(session)).term(query.taxonomy_term_id)
        if found is None:
            return None
        term = (found.taxonomy.key, found.code)
    taxonomy = None
    if query.taxonomy_id is not None:
        found_taxonomy = _taxonomy(query.taxonomy_id)
        if found_taxonomy is None:
            return None
        taxonomy = found_taxonomy.key
    return pub.PublicFilter(
        search=query.search,
        term=term,
        taxonomy=taxonomy,
        organization_id=query.organization_id,
        modified_after=query.modified_after,
        postcode=postcode,
    )


async def service_parts(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, hsds.ServiceParts]:
    rows = await repo.services_by_ids(session, ids)
    locations = await repo.locations_of(session, ids)
    areas = await repo.areas_of(session, ids)
    schedules = await repo.schedules_of(session, ids)
    organizations = await pub.organizations_with_municipality(
        session, [r["organization_id"] for r in rows.values()]
    )
    parts = {}
    for service_id, row in rows.items():
        organization = organizations[row["organization_id"]]
        parts[service_id] = hsds.ServiceParts(
            row=row,
            organization=organization,
            locations=locations.get(service_id, []),
            areas=areas.get(service_id, []),
            schedules=schedules.get(service_id, []),
            municipality=organization["municipality_name"],
        )
    return parts


async def services(
    uow: UnitOfWork, query: ServiceQuery, paging: NumberedPage, *, full: bool, minimal: bool
) -> Json:
    """``GET /services``: service_list items, or full services, or just ids and dates of change."""
    async with uow.reading() as session:
        flt = await public_filter(session, query)
        if flt is None:
            return hsds.page(0, paging.page, paging.per_page, [])
        total, ids = await pub.public_services(session, flt, offset=paging.offset, limit=paging.per_page)
        if minimal:
            rows = await repo.services_by_ids(session, ids)
            contents = [hsds.minimal_service(rows[i]) for i in ids]
        elif full:
            parts = await service_parts(session, ids)
            by_code = (await vocabulary(session)).by_code
            contents = [hsds.full_service(parts[i], by_code) for i in ids]
        else:
            parts = await service_parts(session, ids)
            contents = [hsds.service_list_item(parts[i]) for i in ids]
    return hsds.page(total, paging.page, paging.per_page, contents)


async def service(uow: UnitOfWork, service_id: uuid.UUID) -> Json:
    """``GET /services/{id}``: a fully nested public service."""
    async with uow.reading() as session:
        parts = (await service_parts(session, [service_id])).get(service_id)
        if parts is None or not parts.row["public"]:
            raise NotFound("service")
        return hsds.full_service(parts, (await vocabulary(session)).by_code)


async def organizations(uow: UnitOfWork, search: str | None, paging: NumberedPage, *, full: bool) -> Json:
    """``GET /organizations``: organisation scalars; with ``full``, the ids of their public services."""
    async with uow.reading() as session:
        total, ids = await pub.organizations_numbered(
            session, search, offset=paging.offset, limit=paging.per_page
        )
        rows = await pub.organizations_with_municipality(session, ids)
        contents = [hsds.organization(rows[i]) for i in ids]
        if full:
            offered = await pub.public_services_of(session, ids)
            contents = [
                c | {"services": [{"id": str(s)} for s in offered.get(i, [])]}
                for c, i in zip(contents, ids, strict=True)
            ]
    return hsds.page(total, paging.page, paging.per_page, contents)


async def organization(uow: UnitOfWork, org_id: uuid.UUID, *, full_service: bool) -> Json:
    """``GET /organizations/{id}``: the organisation with its public services (ids, or full ones)."""
    async with uow.reading() as session:
        rows = await pub.organizations_with_municipality(session, [org_id])
        if org_id not in rows:
            raise NotFound("organization")
        offered = (await pub.public_services_of(session, [org_id])).get(org_id, [])
        if full_service:
            parts = await service_parts(session, offered)
            by_code = (await vocabulary(session)).by_code
            services_json = [hsds.full_service(parts[i], by_code) for i in offered]
        else:
            services_json = [{"id": str(i)} for i in offered]
    return hsds.organization(rows[org_id]) | {"services": services_json}


def _matches(text: str | None, *values: str) -> bool:
    return text is None or any(text.casefold() in v.casefold() for v in values)


def taxonomies(search: str | None, paging: NumberedPage) -> Json:
    found = [t.as_json() for t in hsds.TAXONOMIES if _matches(search, t.name, t.description)]
    return hsds.page(len(found), paging.page, paging.per_page, paging.slice(found))


def taxonomy(taxonomy_id: str) -> Json:
    found = _taxonomy(taxonomy_id)
    if found is None:
        raise NotFound("taxonomy")
    return found.as_json()


async def taxonomy_terms(
    uow: UnitOfWork,
    search: str | None,
    taxonomy_id: str | None,
    top_only: bool | None,
    parent_id: str | None,
    paging: NumberedPage,
) -> Json:
    """Our terms form flat lists: every term is a top term, none has a parent."""
    async with uow.reading() as session:
        terms = (await vocabulary(session)).terms
    found = [
        t.as_json()
        for t in terms
        if _matches(search, t.code, t.label_nl, t.label_en)
        and (taxonomy_id is None or t.taxonomy.id == taxonomy_id)
        and parent_id is None
    ]
    return hsds.page(len(found), paging.page, paging.per_page, paging.slice(found))


async def taxonomy_term(uow: UnitOfWork, term_id: str) -> Json:
    async with uow.reading() as session:
        found = (await vocabulary(session)).term(term_id)
    if found is None:
        raise NotFound("taxonomy_term")
    return found.as_json()


async def services_at_locations(
    uow: UnitOfWork, query: ServiceQuery, postcode: str | None, paging: NumberedPage, *, full: bool
) -> Json:
    """``GET /service_at_locations``: each public service at each of its locations."""
    async with uow.reading() as session:
        flt = await public_filter(session, query, postcode)
        if flt is None:
            return hsds.page(0, paging.page, paging.per_page, [])
        total, links = await pub.public_services_at_locations(
            session, flt, offset=paging.offset, limit=paging.per_page
        )
        parts = await service_parts(session, list(dict.fromkeys(s for _, s in links)))
        by_code = (await vocabulary(session)).by_code if full else {}
    contents = [
        _service_at_location(parts[service_id], sal_id, by_code, full=full) for sal_id, service_id in links
    ]
    return hsds.page(total, paging.page, paging.per_page, contents)


def _service_at_location(
    parts: hsds.ServiceParts, sal_id: uuid.UUID, by_code: dict[tuple[str, str], hsds.Term], *, full: bool
) -> Json:
    loc = next(loc for loc in parts.locations if loc["sal_id"] == sal_id)
    if not full:
        return hsds.service_at_location_list_item(loc, parts)
    document = hsds.service_at_location(loc, parts.row["id"], parts)
    return document | {"service": hsds.full_service(parts, by_code, with_locations=False)}


async def service_at_location(uow: UnitOfWork, sal_id: uuid.UUID) -> Json:
    """``GET /service_at_locations/{id}``: the link with its full location and service."""
    async with uow.reading() as session:
        service_id = await pub.public_service_at_location(session, sal_id)
        if service_id is None:
            raise NotFound("service_at_location")
        parts = (await service_parts(session, [service_id]))[service_id]
        by_code = (await vocabulary(session)).by_code
    return _service_at_location(parts, sal_id, by_code, full=True)
