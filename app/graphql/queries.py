"""Query entry points: public data, visibility applied by the services in SQL. No SQL here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError

from app.domain.errors import NotFound, ValidationFailed
from app.domain.initiatives import network_service, service
from app.domain.initiatives.schemas import InitiativeFilter, InitiativeView
from app.domain.signals.dashboard import dashboard
from app.graphql import directory
from app.graphql.arguments import page_size
from app.graphql.lookahead import selected_on
from app.graphql.permissions import SeesSignalStats, needs
from app.graphql.policy_signals import PolicySignalStats
from app.graphql.types import (
    DEFAULT_PAGE,
    NOT_LOADED,
    Info,
    Initiative,
    InitiativeConnection,
    InitiativeEdge,
    InitiativeStatus,
    Neighbourhood,
    Network,
    PageInfo,
    Theme,
    initiative_for,
    initiatives_for,
    statuses_of,
)


def parse_id(value: strawberry.ID | str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@strawberry.input(description="Filters combine with AND.")
class InitiativeFilterInput:
    neighbourhood: str | None = strawberry.field(default=None, description="Buurt code, e.g. BU03630001.")
    network_id: strawberry.ID | None = None
    status: list[InitiativeStatus] | None = None
    theme: str | None = strawberry.field(default=None, description="Theme code, e.g. debts.")
    municipality: str | None = strawberry.field(default=None, description="Municipality code, e.g. GM0363.")

    def to_filter(self) -> InitiativeFilter | None:
        """The domain filter; None when it names a network id that cannot exist (an empty page)."""
        network_id = None
        if self.network_id is not None:
            network_id = parse_id(self.network_id)
            if network_id is None:
                return None
        return InitiativeFilter(
            neighbourhood=self.neighbourhood,
            network_id=network_id,
            statuses=statuses_of(self.status),
            theme=self.theme,
            municipality=self.municipality,
        )


def _cursors(info: Info, views: list[InitiativeView]) -> list[str]:
    """Signed cursors of the edges; only when the query selects them (an HMAC per item otherwise)."""
    if "cursor" not in selected_on(info, "InitiativeEdge"):
        return [NOT_LOADED] * len(views)
    cursors = info.context.cursors
    return [cursors.encode(INITIATIVES, (v.created_at, v.id)) for v in views]


def _connection(items: list[Initiative], end: str | None, cursors: list[str]) -> InitiativeConnection:
    return InitiativeConnection(
        edges=[InitiativeEdge(cursor=c, node=n) for c, n in zip(cursors, items, strict=True)],
        nodes=items,
        page_info=PageInfo(has_next_page=end is not None, end_cursor=end),
    )


INITIATIVES = "initiatives"  # the cursor kind of the list of initiatives (the same as REST's)


@strawberry.type
class Query:
    @strawberry.field(description="The active theme list.")
    async def themes(self, info: Info) -> list[Theme]:
        return [Theme.of(t) for t in (await info.context.themes()).values()]

    @strawberry.field(
        description="Buurten, by code; optionally of one municipality (GM code) or wijk (WK code)."
    )
    async def neighbourhoods(
        self,
        info: Info,
        municipality: str | None = None,
        wijk: str | None = None,
        first: Annotated[int, page_size(service.MAX_NEIGHBOURHOODS)] = DEFAULT_PAGE,
    ) -> list[Neighbourhood]:
        async with info.context.reads.session() as session:
            found = await service.neighbourhoods(session, municipality, wijk, first)
        return [Neighbourhood.of(v) for v in found]

    @strawberry.field(
        description="The municipality's policy signals: per theme and status, days to an answer, "
        "outcomes per quarter (public only when the municipality publishes them).",
        extensions=needs(SeesSignalStats()),
    )
    async def policy_signal_stats(self, info: Info, municipality: str) -> PolicySignalStats:
        async with info.context.reads.session() as session:
            found = await dashboard(session, municipality)
        return PolicySignalStats.of(municipality, found)

    @strawberry.field
    async def neighbourhood(self, info: Info, code: str) -> Neighbourhood | None:
        try:
            async with info.context.reads.session() as session:
                return Neighbourhood.of(await service.neighbourhood(session, code))
        except NotFound:
            return None

    @strawberry.field(description="Initiatives, newest first; ideas only for members of their network.")
    async def initiatives(
        self,
        info: Info,
        filter: InitiativeFilterInput | None = None,
        first: Annotated[int, page_size(service.MAX_PAGE)] = 20,
        after: str | None = None,
    ) -> InitiativeConnection:
        ctx = info.context
        flt = filter.to_filter() if filter is not None else InitiativeFilter()
        if flt is None:
            return _connection([], None, [])
        try:
            key = ctx.cursors.decode(INITIATIVES, after, (datetime, uuid.UUID), field="after")
        except ValidationFailed as error:
            raise GraphQLError("The cursor is not valid.", extensions={"code": "BAD_CURSOR"}) from error
        viewer = await ctx.viewer()
        async with ctx.reads.session() as session:
            views, end = await service.list_initiatives(session, viewer, flt, first, key)
        items = await initiatives_for(info, views)
        end_cursor = ctx.cursors.encode(INITIATIVES, end) if end is not None else None
        return _connection(items, end_cursor, _cursors(info, views))

    @strawberry.field
    async def initiative(self, info: Info, id: strawberry.ID) -> Initiative | None:
        initiative_id = parse_id(id)
        if initiative_id is None:
            return None
        view = await info.context.loaders.initiative.load(initiative_id)
        return None if view is None else await initiative_for(info, view)

    @strawberry.field(description="Resident networks by name; optionally of one municipality or buurt.")
    async def networks(
        self,
        info: Info,
        municipality: str | None = None,
        neighbourhood: str | None = None,
        first: Annotated[int, page_size(network_service.MAX_NETWORKS)] = DEFAULT_PAGE,
    ) -> list[Network]:
        async with info.context.reads.session() as session:
            found = await network_service.list_networks(session, municipality, neighbourhood, first)
        return [Network.of(v) for v in found]

    @strawberry.field(
        description="The sociale kaart: services, nearest area first (with a neighbourhood), then best "
        "text match. Public services for everyone; internal ones for workers and administrators."
    )
    async def directory_services(
        self,
        info: Info,
        filter: directory.DirectoryFilterInput | None = None,
        first: directory.DirectoryPage = 20,
        after: str | None = None,
    ) -> directory.DirectoryServiceConnection:
        return await directory.directory_services(info, filter, first, after)

    @strawberry.field
    async def network(self, info: Info, id: strawberry.ID) -> Network | None:
        network_id = parse_id(id)
        if network_id is None:
            return None
        view = await info.context.loaders.network.load(network_id)
        return None if view is None else Network.of(view)
