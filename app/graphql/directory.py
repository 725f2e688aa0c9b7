"""The sociale kaart in GraphQL, for the neighbourhood dashboards: the same search as REST
(``app.domain.directory.service``), public services for everyone, internal ones and internal notes only
for workers, administrators and the organisation itself (decided in SQL by the service)."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import strawberry
from graphql import GraphQLError
from strawberry.permission import BasePermission

from app.domain.directory import service
from app.domain.directory.repository import SearchFilter
from app.domain.directory.schemas import ServiceHit
from app.domain.errors import ValidationFailed
from app.graphql.arguments import page_size
from app.graphql.permissions import null_unless
from app.graphql.types import Info, PageInfo
from app.security.scopes import Scope

DIRECTORY_SERVICES = "directory_services"  # the cursor kind, the same as REST's
SEARCH_KEY = (int, float, str, uuid.UUID)


class SeesInternalEntries(BasePermission):
    """Internal notes: workers (cases:read), administrators, and a partner for its own entries (the
    service leaves another organisation's notes null)."""

    message = "Only workers and administrators see internal notes."
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and any(
            principal.has(s) for s in (Scope.cases_read, Scope.admin, Scope.services_write)
        )


@strawberry.type(description="An area a service serves: a buurt, a wijk or the whole municipality.")
class DirectoryArea:
    code: str
    name: str
    level: str


@strawberry.type(description="Opening hours on one weekday (ISO: 1 = Monday), local time.")
class OpeningHours:
    weekday: int
    opens_at: time
    closes_at: time


@strawberry.type(description="A service of the sociale kaart (an HSDS 3.0 service).")
class DirectoryService:
    id: strawberry.ID
    name: str
    description: str
    status: str
    organization_name: str
    eligibility_description: str
    application_process: str
    fees_description: str
    free_of_charge: bool
    languages: list[str]
    minimum_age: int | None
    maximum_age: int | None
    themes: list[str]
    life_domains: list[str]
    email: str | None
    phone: str | None
    url: str | None
    public: bool
    areas: list[DirectoryArea]
    opening_hours: list[OpeningHours]
    area_level: str | None = strawberry.field(
        description="With a neighbourhood filter: location, buurt, wijk or municipality."
    )
    stale: bool
    last_modified: datetime
    notes: strawberry.Private[str | None]

    @strawberry.field(
        description="For workers and administrators only (null for everyone else).",
        extensions=null_unless(SeesInternalEntries()),
    )
    def internal_notes(self) -> str | None:
        return self.notes

    @classmethod
    def of(cls, hit: ServiceHit) -> DirectoryService:
        s = hit.service
        return cls(
            id=strawberry.ID(str(s.id)),
            name=s.name,
            description=s.description,
            status=s.status,
            organization_name=s.organization.name,
            eligibility_description=s.eligibility_description,
            application_process=s.application_process,
            fees_description=s.fees_description,
            free_of_charge=s.free_of_charge,
            languages=s.languages,
            minimum_age=s.minimum_age,
            maximum_age=s.maximum_age,
            themes=s.themes,
            life_domains=s.life_domains,
            email=s.email,
            phone=s.phone,
            url=s.url,
            public=s.public,
            areas=[DirectoryArea(code=a.code, name=a.name, level=a.level) for a in s.areas],
            opening_hours=[
                OpeningHours(
                    weekday=h.weekday,
                    opens_at=time.fromisoformat(h.opens_at),
                    closes_at=time.fromisoformat(h.closes_at),
                )
                for h in s.schedules
            ],
            area_level=hit.area_level,
            stale=s.stale,
            last_modified=s.last_modified,
            notes=s.internal_notes,
        )


@strawberry.type(description="A page of services, nearest area and best match first.")
class DirectoryServiceConnection:
    nodes: list[DirectoryService]
    page_info: PageInfo


@strawberry.input(description="Filters combine with AND.")
class DirectoryFilterInput:
    text: str | None = strawberry.field(default=None, description="Dutch full-text search.")
    theme: str | None = None
    life_domain: str | None = None
    neighbourhood: str | None = strawberry.field(default=None, description="Buurt code, e.g. BU03630001.")
    age: int | None = None
    free: bool | None = None
    open_now: bool | None = None
    municipality: str | None = strawberry.field(default=None, description="Municipality code, e.g. GM0363.")


def calendar_of(info: Info) -> service.Calendar:
    settings = info.context.settings
    return service.Calendar(settings.directory_stale_months, ZoneInfo(settings.directory_time_zone))


async def directory_services(
    info: Info, filter: DirectoryFilterInput | None, first: int, after: str | None
) -> DirectoryServiceConnection:
    ctx = info.context
    given = filter or DirectoryFilterInput()
    calendar = calendar_of(info)
    try:
        key = ctx.cursors.decode(DIRECTORY_SERVICES, after, SEARCH_KEY, field="after")
    except ValidationFailed as error:
        raise GraphQLError("The cursor is not valid.", extensions={"code": "BAD_CURSOR"}) from error
    flt = SearchFilter(
        text=given.text,
        theme=given.theme,
        life_domain=given.life_domain,
        neighbourhood=given.neighbourhood,
        age=given.age,
        free=given.free,
        open_at=service.open_at(calendar) if given.open_now else None,
        municipality=given.municipality,
    )
    async with ctx.reads.session() as session:
        found = await service.search(session, ctx.principal, flt, calendar, limit=first + 1, after=key)
    page, more = found[:first], len(found) > first
    end = ctx.cursors.encode(DIRECTORY_SERVICES, page[-1][1]) if more and page else None
    return DirectoryServiceConnection(
        nodes=[DirectoryService.of(hit) for hit, _ in page],
        page_info=PageInfo(has_next_page=end is not None, end_cursor=end),
    )


DirectoryPage = Annotated[int, page_size(service.MAX_PAGE)]
