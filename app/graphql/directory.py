"""The sociale kaart in GraphQL, for the neighbourhood dashboards: the same search as REST
(``app.domain.directory.service``), public services for everyone, internal ones and internal notes only
for workers, administrators and the organisation itself (decided in SQL by the service)."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import strawberry
import strawberry.experimental.pydantic
from graphql import GraphQLError
from strawberry.permission import BasePermission

from app.domain.directory import service
from app.domain.directory.repository import SearchFilter
from app.domain.directory.schemas import AreaRef, ScheduleRead, ServiceHit, ServiceRead
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


@strawberry.experimental.pydantic.type(
    model=AreaRef,
    all_fields=True,
    description="An area a service serves: a buurt, a wijk or the whole municipality.",
)
class DirectoryArea:
    pass


@strawberry.type(description="Opening hours on one weekday (ISO: 1 = Monday), local time.")
class OpeningHours:
    weekday: int
    opens_at: time
    closes_at: time

    @classmethod
    def of(cls, hours: ScheduleRead) -> OpeningHours:
        return cls(
            weekday=hours.weekday,
            opens_at=time.fromisoformat(hours.opens_at),
            closes_at=time.fromisoformat(hours.closes_at),
        )


# The fields a dashboard reads of a service are REST's ``ServiceRead``'s (one definition: strawberry
# derives each type from the model); the organisation comes as its name, the opening hours as times,
# internal notes behind a permission, and the area level from the search hit.
@strawberry.experimental.pydantic.type(
    model=ServiceRead, description="A service of the sociale kaart (an HSDS 3.0 service)."
)
class DirectoryService:
    id: strawberry.ID
    name: strawberry.auto
    description: strawberry.auto
    status: strawberry.auto
    eligibility_description: strawberry.auto
    application_process: strawberry.auto
    fees_description: strawberry.auto
    free_of_charge: strawberry.auto
    languages: strawberry.auto
    minimum_age: strawberry.auto
    maximum_age: strawberry.auto
    themes: strawberry.auto
    life_domains: strawberry.auto
    email: strawberry.auto
    phone: strawberry.auto
    url: strawberry.auto
    public: strawberry.auto
    areas: strawberry.auto
    stale: strawberry.auto
    last_modified: strawberry.auto
    organization_name: str
    opening_hours: list[OpeningHours]
    area_level: str | None = strawberry.field(
        description="With a neighbourhood filter: location, buurt, wijk or municipality."
    )
    internal_notes: strawberry.auto = strawberry.field(
        description="For workers and administrators only (null for everyone else).",
        extensions=null_unless(SeesInternalEntries()),
    )


def service_node(hit: ServiceHit) -> DirectoryService:
    """A search hit as the GraphQL type (strawberry converts the model's fields, nested ones too)."""
    s = hit.service
    node = DirectoryService.from_pydantic(
        s,
        extra={
            "id": strawberry.ID(str(s.id)),
            "organization_name": s.organization.name,
            "area_level": hit.area_level,
            "opening_hours": [],  # strawberry would read list items given here as nested extras
        },
    )
    node.opening_hours = [OpeningHours.of(h) for h in s.schedules]
    return node


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
        nodes=[service_node(hit) for hit, _ in page],
        page_info=PageInfo(has_next_page=end is not None, end_cursor=end),
    )


DirectoryPage = Annotated[int, page_size(service.MAX_PAGE)]
