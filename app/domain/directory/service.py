"""Use cases of the sociale kaart: maintaining organisations, locations and services, verifying them,
and reading them (one service, a search, the stale worklist).

Object rules: the administrator maintains every entry, a partner's client with ``services:write`` only
its own organisation's (``rules.may_maintain``); anything else answers like a missing entry (404), and
an organisation named in a body that the caller may not maintain is an unknown one (422). Readers see
public entries; workers and administrators also non-public ones and internal notes; a partner also its
own. The directory is not case data: nothing here writes the access log or the change feed. Never
commits: the request's unit of work does.

Reads (a search, one entry, the lists) go through ``uow.reading()``: on a streaming replica when one is
usable, else on the primary (REST's search page is ``search_page``'s: one raw statement through
``Database.read_one``, the same routing without a session). A maintainer's write answers from its own
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.directory import children_repository, rules
from app.domain.directory import repository as repo
from app.domain.directory.models import (
    DirectoryLocation,
    DirectoryOrganization,
    DirectorySchedule,
    DirectoryService,
)
from app.domain.directory.schemas import (
    AreaRef,
    AssuranceIn,
    LocationCreate,
    LocationRead,
    LocationUpdate,
    OrganizationCreate,
    OrganizationRead,
    OrganizationRef,
    OrganizationUpdate,
    ScheduleIn,
    ScheduleRead,
    ServiceCreate,
    ServiceHit,
    ServiceRead,
    ServiceUpdate,
)
from app.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from app.domain.initiatives import service as initiatives
from app.domain.initiatives.models import InitiativeStatus
from app.domain.initiatives.schemas import InitiativeFilter, InitiativeView
from app.domain.organisation import repository as organisation_repo
from app.domain.organisation.common import changed_fields, flush, raise_if
from app.domain.organisation.models import PartnerOrganisation
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import Scope

MAX_PAGE = 100
NULLABLE = frozenset(
    {
        "email",
        "website",
        "phone",
        "url",
        "minimum_age",
        "maximum_age",
        "neighbourhood",
        "latitude",
        "longitude",
    }
)


@dataclass(frozen=True)
class Calendar:
    """When "now" is for the directory: the municipality's time zone (opening hours are local) and
    how many months a verification stays fresh."""

    stale_months: int = 12
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))

    def now(self) -> datetime:
        return utcnow().astimezone(self.zone)

    def stale_before(self) -> date:
        return rules.months_before(self.now().date(), self.stale_months)


def _field(name: str, message: str, rule: str) -> FieldError:
    return FieldError(("body", name), message, rule)


# -- organisations ---------------------------------------------------------------------------------


async def create_organization(
    uow: UnitOfWork, principal: Principal, data: OrganizationCreate
) -> OrganizationRead:
    """Only the administrator adds organisations (and links one to a partner organisation)."""
    if not principal.has(Scope.admin):
        raise Forbidden("Only the municipality's administrator adds organisations.")
    municipality = await organisation_repo.municipality_by_code(uow.session, data.municipality)
    if municipality is None:
        raise ValidationFailed(
            [_field("municipality", "No municipality with this code.", "unknown_municipality")]
        )
    if data.partner_organisation_id is not None and not await organisation_repo.get(
        uow.session, PartnerOrganisation, data.partner_organisation_id
    ):
        raise ValidationFailed(
            [_field("partner_organisation_id", "No partner organisation with this id.", "unknown_partner")]
        )
    organization = DirectoryOrganization(
        municipality_id=municipality.id, **data.model_dump(exclude={"municipality"})
    )
    uow.session.add(organization)
    await flush(
        uow.session, "partner_already_listed", "This partner organisation is in the directory already."
    )
    return OrganizationRead.model_validate(organization)


async def _maintained_organization(
    uow: UnitOfWork, principal: Principal, org_id: uuid.UUID, *, lock: bool = False
) -> DirectoryOrganization:
    organization = await repo.organization(uow.session, org_id, lock=lock)
    if organization is None or not rules.may_maintain(principal, organization.partner_organisation_id):
        raise NotFound("organization")
    return organization


async def update_organization(
    uow: UnitOfWork,
    principal: Principal,
    org_id: uuid.UUID,
    data: OrganizationUpdate,
    expected: ExpectedVersion,
) -> OrganizationRead:
    organization = await _maintained_organization(uow, principal, org_id, lock=True)
    expected.check(organization.id, organization.version)
    for name, value in changed_fields(data, NULLABLE).items():
        setattr(organization, name, value)
    organization.version += 1
    organization.last_modified = utcnow()
    await uow.session.flush()
    return OrganizationRead.model_validate(organization)


async def get_organization(uow: UnitOfWork, org_id: uuid.UUID) -> OrganizationRead:
    """Organisations are public: who offers help is no secret (their services may be)."""
    async with uow.reading() as session:
        organization = await repo.organization(session, org_id)
    if organization is None:
        raise NotFound("organization")
    return OrganizationRead.model_validate(organization)


async def list_organizations(
    uow: UnitOfWork, *, limit: int, after: tuple[str, uuid.UUID] | None
) -> list[OrganizationRead]:
    async with uow.reading() as session:
        rows = await repo.organizations_page(session, limit=max(1, min(limit, MAX_PAGE + 1)), after=after)
    return [OrganizationRead.model_validate(o) for o in rows]


async def _organization_in_body(
    uow: UnitOfWork, principal: Principal, org_id: uuid.UUID
) -> DirectoryOrganization:
    organization = await repo.organization(uow.session, org_id)
    if organization is None or not rules.may_maintain(principal, organization.partner_organisation_id):
        raise ValidationFailed(
            [
                _field(
                    "organization_id",
                    "No organisation with this id that you maintain.",
                    "unknown_organization",
                )
            ]
        )
    return organization


# -- locations -------------------------------------------------------------------------------------


async def _buurt_id(uow: UnitOfWork, code: str | None, municipality_id: uuid.UUID) -> uuid.UUID | None:
    if code is None:
        return None
    found = await repo.buurt(uow.session, code)
    if found is None or found[2] != municipality_id:
        raise ValidationFailed(
            [_field("neighbourhood", "No buurt with this code in the municipality.", "unknown_buurt")]
        )
    return found[0]


async def _location_read(session: AsyncSession, location: DirectoryLocation) -> LocationRead:
    neighbourhood = await repo.location_neighbourhood(session, location.buurt_id)
    return LocationRead.model_validate({**location.model_dump(), "neighbourhood": neighbourhood})


async def create_location(uow: UnitOfWork, principal: Principal, data: LocationCreate) -> LocationRead:
    organization = await _organization_in_body(uow, principal, data.organization_id)
    values = data.model_dump(exclude={"neighbourhood"})
    location = DirectoryLocation(
        **values, buurt_id=await _buurt_id(uow, data.neighbourhood, organization.municipality_id)
    )
    uow.session.add(location)
    await uow.session.flush()
    return await _location_read(uow.session, location)


async def update_location(
    uow: UnitOfWork,
    principal: Principal,
    location_id: uuid.UUID,
    data: LocationUpdate,
    expected: ExpectedVersion,
) -> LocationRead:
    location = await repo.location(uow.session, location_id, lock=True)
    organization = await repo.organization(uow.session, location.organization_id) if location else None
    if (
        location is None
        or organization is None
        or not rules.may_maintain(principal, organization.partner_organisation_id)
    ):
        raise NotFound("location")
    expected.check(location.id, location.version)
    changes = changed_fields(data, NULLABLE)
    if "neighbourhood" in changes:
        location.buurt_id = await _buurt_id(uow, changes.pop("neighbourhood"), organization.municipality_id)
    for name, value in changes.items():
        setattr(location, name, value)
    location.version += 1
    location.last_modified = utcnow()
    await children_repository.touch_services_at(uow.session, location.id, location.last_modified)
    await uow.session.flush()
    return await _location_read(uow.session, location)


async def get_location(uow: UnitOfWork, location_id: uuid.UUID) -> LocationRead:
    """Addresses of places where help is offered are public, like the organisations."""
    async with uow.reading() as session:
        location = await repo.location(session, location_id)
        if location is None:
            raise NotFound("location")
        return await _location_read(session, location)


# -- services: maintenance -------------------------------------------------------------------------


async def _check_codes(
    uow: UnitOfWork, themes: Sequence[str] | None, life_domains: Sequence[str] | None
) -> None:
    known_themes, known_domains = await repo.known_codes(uow.session, themes or (), life_domains or ())
    errors = [
        _field(f"themes.{i}", "Unknown theme code.", "unknown_theme")
        for i, code in enumerate(themes or ())
        if code not in known_themes
    ] + [
        _field(f"life_domains.{i}", "Unknown life domain code.", "unknown_life_domain")
        for i, code in enumerate(life_domains or ())
        if code not in known_domains
    ]
    raise_if(errors)


async def _area_ids(
    uow: UnitOfWork, codes: Sequence[str], organization: DirectoryOrganization
) -> list[uuid.UUID | None]:
    """The areas the codes name, inside the organisation's municipality; None is the whole of it."""
    found = await repo.areas_by_code(uow.session, [c for c in codes if not c.startswith("GM")])
    own_code = await repo.municipality_code(uow.session, organization.municipality_id)
    result: list[uuid.UUID | None] = []
    errors = []
    for i, code in enumerate(codes):
        if code.startswith("GM"):
            if code == own_code:
                result.append(None)
                continue
        elif code in found and found[code][1] == organization.municipality_id:
            result.append(found[code][0])
            continue
        errors.append(_field(f"areas.{i}", "No such buurt, wijk or municipality here.", "unknown_area"))
    raise_if(errors)
    return result


async def _check_locations(uow: UnitOfWork, org_id: uuid.UUID, location_ids: Sequence[uuid.UUID]) -> None:
    own = await repo.locations_of_organization(uow.session, org_id, location_ids)
    raise_if(
        [
            _field(f"locations.{i}", "No location with this id of this organisation.", "unknown_location")
            for i, location_id in enumerate(location_ids)
            if location_id not in own
        ]
    )


def _schedule_rows(
    service_id: uuid.UUID, schedules: Sequence[ScheduleIn], locations: Sequence[uuid.UUID]
) -> list[DirectorySchedule]:
    raise_if(
        [
            _field(
                f"schedules.{i}.location_id",
                "The service is not offered at this location.",
                "unknown_location",
            )
            for i, s in enumerate(schedules)
            if s.location_id is not None and s.location_id not in locations
        ]
    )
    return [
        DirectorySchedule(
            service_id=service_id,
            weekday=s.weekday,
            opens_at=s.opens,
            closes_at=s.closes,
            location_id=s.location_id,
            description=s.description,
        )
        for s in schedules
    ]


async def _write_children(
    uow: UnitOfWork,
    service: DirectoryService,
    organization: DirectoryOrganization,
    *,
    locations: Sequence[uuid.UUID] | None,
    areas: Sequence[str] | None,
    schedules: Sequence[ScheduleIn] | None,
) -> None:
    """Check every list that was sent, then replace the stored ones (nothing is written when one is
    refused)."""
    if locations is not None:
        await _check_locations(uow, organization.id, locations)
    area_ids = await _area_ids(uow, areas, organization) if areas is not None else None
    rows: list[DirectorySchedule] | None = None
    if schedules is not None:
        if locations is None:
            stored = await repo.locations_of(uow.session, [service.id])
            locations = [row["id"] for row in stored.get(service.id, [])]
            rows = _schedule_rows(service.id, schedules, locations)
            locations = None
        else:
            rows = _schedule_rows(service.id, schedules, locations)
    if locations is not None:
        await children_repository.replace_locations(uow.session, service.id, locations)
    if area_ids is not None:
        await children_repository.replace_areas(uow.session, service.id, area_ids)
    if rows is not None:
        await children_repository.replace_schedules(uow.session, service.id, rows)


CHILDREN = frozenset({"locations", "areas", "schedules"})


async def create_service(
    uow: UnitOfWork, principal: Principal, data: ServiceCreate, calendar: Calendar
) -> ServiceRead:
    organization = await _organization_in_body(uow, principal, data.organization_id)
    await _check_codes(uow, data.themes, data.life_domains)
    service = DirectoryService(**data.model_dump(exclude=set(CHILDREN)))
    uow.session.add(service)
    await uow.session.flush()
    await _write_children(
        uow, service, organization, locations=data.locations, areas=data.areas, schedules=data.schedules
    )
    await uow.session.flush()
    return await _read_one(uow.session, service.id, repo.Visibility(internal=True), calendar)


async def _maintained_service(
    uow: UnitOfWork, principal: Principal, service_id: uuid.UUID
) -> tuple[DirectoryService, DirectoryOrganization]:
    service = await repo.service(uow.session, service_id, lock=True)
    organization = await repo.organization(uow.session, service.organization_id) if service else None
    if (
        service is None
        or organization is None
        or not rules.may_maintain(principal, organization.partner_organisation_id)
    ):
        raise NotFound("service")
    return service, organization


async def update_service(
    uow: UnitOfWork,
    principal: Principal,
    service_id: uuid.UUID,
    data: ServiceUpdate,
    expected: ExpectedVersion,
    calendar: Calendar,
) -> ServiceRead:
    service, organization = await _maintained_service(uow, principal, service_id)
    expected.check(service.id, service.version)
    changes = changed_fields(data, NULLABLE | CHILDREN)
    low = changes.get("minimum_age", service.minimum_age)
    high = changes.get("maximum_age", service.maximum_age)
    if low is not None and high is not None and low > high:
        raise ValidationFailed(
            [_field("minimum_age", "minimum_age must not be above maximum_age.", "age_range")]
        )
    await _check_codes(uow, changes.get("themes"), changes.get("life_domains"))
    await _write_children(
        uow,
        service,
        organization,
        locations=changes.pop("locations", None),
        areas=changes.pop("areas", None),
        schedules=data.schedules if "schedules" in changes else None,
    )
    changes.pop("schedules", None)
    for name, value in changes.items():
        setattr(service, name, value)
    service.version += 1
    service.last_modified = utcnow()
    await uow.session.flush()
    return await _read_one(uow.session, service.id, repo.Visibility(internal=True), calendar)


async def assure_service(
    uow: UnitOfWork,
    principal: Principal,
    service_id: uuid.UUID,
    data: AssuranceIn,
    expected: ExpectedVersion,
    calendar: Calendar,
) -> ServiceRead:
    """Record that the entry was checked today, and by whom (HSDS ``assured_date``, ``assurer_email``)."""
    service, _ = await _maintained_service(uow, principal, service_id)
    expected.check(service.id, service.version)
    service.assured_date = calendar.now().date()
    service.assurer_email = data.assurer_email
    service.assurer_name = principal.subject
    service.version += 1
    service.last_modified = utcnow()
    await uow.session.flush()
    return await _read_one(uow.session, service.id, repo.Visibility(internal=True), calendar)


# -- services: reading -----------------------------------------------------------------------------


def _service_read(
    row: dict[str, Any],
    locations: list[dict[str, Any]],
    areas: list[repo.AreaRow],
    schedules: list[dict[str, Any]],
    visibility: repo.Visibility,
    calendar: Calendar,
) -> ServiceRead:
    internal = visibility.internal or (
        visibility.own_partner is not None and visibility.own_partner == row["partner_organisation_id"]
    )
    return ServiceRead.model_validate(
        {
            **row,
            "organization": OrganizationRef(id=row["organization_id"], name=row["organization_name"]),
            "internal_notes": row["internal_notes"] if internal else None,
            "locations": [LocationRead.model_validate(loc) for loc in locations],
            "areas": [AreaRef(code=c, name=n, level=lvl) for _, c, n, lvl in areas],
            "schedules": [ScheduleRead.model_validate(s) for s in schedules],
            "stale": rules.is_stale(row["assured_date"], calendar.now().date(), calendar.stale_months),
        }
    )


async def _read_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], visibility: repo.Visibility, calendar: Calendar
) -> dict[uuid.UUID, ServiceRead]:
    rows = await repo.services_by_ids(session, ids)
    locations = await repo.locations_of(session, ids)
    areas = await repo.areas_of(session, ids)
    schedules = await repo.schedules_of(session, ids)
    return {
        i: _service_read(
            row, locations.get(i, []), areas.get(i, []), schedules.get(i, []), visibility, calendar
        )
        for i, row in rows.items()
    }


async def _read_one(
    session: AsyncSession, service_id: uuid.UUID, visibility: repo.Visibility, calendar: Calendar
) -> ServiceRead:
    found = (await _read_many(session, [service_id], visibility, calendar)).get(service_id)
    if found is None:
        raise NotFound("service")
    return found


async def get_service(
    uow: UnitOfWork, principal: Principal | None, service_id: uuid.UUID, calendar: Calendar
) -> ServiceRead:
    """One service; a non-public one only for workers, administrators and its own organisation."""
    visibility = repo.Visibility.of(principal)
    async with uow.reading() as session:
        found = await _read_one(session, service_id, visibility, calendar)
    if not found.public and not visibility.internal and found.internal_notes is None:
        raise NotFound("service")
    return found


async def search(
    session: AsyncSession,
    principal: Principal | None,
    flt: repo.SearchFilter,
    calendar: Calendar,
    *,
    limit: int,
    after: repo.SearchKey | None,
) -> list[tuple[ServiceHit, repo.SearchKey]]:
    """A page of services matching every filter, nearest area first, then best text match; each with
    its key to continue after. Reads only (GraphQL passes a short session of its own)."""
    visibility = repo.Visibility.of(principal)
    hits = await repo.search(session, flt, visibility, limit=max(1, min(limit, MAX_PAGE + 1)), after=after)
    services = await _read_many(session, [h.service_id for h in hits], visibility, calendar)
    return [
        (
            ServiceHit(
                service=services[h.service_id],
                area_level=rules.AreaLevel(h.level).name if h.level is not None else None,
                rank=h.rank,
            ),
            (h.level or 0, -h.rank, h.name, h.service_id),
        )
        for h in hits
    ]


def open_at(calendar: Calendar) -> tuple[int, Any]:
    """(ISO weekday, local wall-clock time) now, for the "open now" filter."""
    now = calendar.now()
    return now.isoweekday(), now.time().replace(tzinfo=None)


async def stale_services(
    uow: UnitOfWork, calendar: Calendar, *, limit: int, after: tuple[date, uuid.UUID] | None
) -> list[tuple[ServiceRead, tuple[date, uuid.UUID]]]:
    """The administrator's worklist: entries to verify, the longest unverified first."""
    async with uow.reading() as session:
        ids = await repo.stale_services(
            session, calendar.stale_before(), limit=max(1, min(limit, MAX_PAGE + 1)), after=after
        )
        services = await _read_many(session, ids, repo.Visibility(internal=True), calendar)
    return [(services[i], (services[i].assured_date or date.min, i)) for i in ids]


# -- community offers: running resident initiatives, read from the initiatives context ------------


async def community_offers(
    uow: UnitOfWork,
    principal: Principal | None,
    neighbourhood: str,
    theme: str | None,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[InitiativeView]:
    """The running initiatives of a buurt: what residents offer each other there. Read live from the
    initiatives (never copied, so never stale), with their own visibility rules."""
    flt = InitiativeFilter(neighbourhood=neighbourhood, statuses=(InitiativeStatus.running,), theme=theme)
    return await initiatives.public_initiatives(uow, principal, flt, limit=limit, after=after)
