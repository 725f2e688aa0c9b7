"""The per-request GraphQL context: the caller, the request's session, the viewer and the DataLoaders.

The session is the REST unit of work (``app.api.deps.unit_of_work``): one transaction per request,
committed once. graphql-core resolves sibling fields concurrently, and one session must never run two
statements at once, so every use of it goes through ``ctx.lock``. Loaders are made per request (their
cache never outlives it) and call the same services as REST, passing the same viewer, so the
visibility rules are those of the statements the services run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from app.domain.initiatives import network_service, service
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.schemas import (
    GrantView,
    InitiativeFilter,
    InitiativeView,
    MemberView,
    NeighbourhoodView,
    NetworkView,
    ThemeView,
    YearPlanView,
)
from app.domain.stats import areas, rollups
from app.domain.stats import service as stats_service
from app.domain.stats.areas import AreaFigures
from app.domain.stats.periods import Period, local_today
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.settings import Settings
from app.web.cursors import Cursors
from app.web.principal import optional_principal
from app.web.unit_of_work import request_unit_of_work

K = TypeVar("K")
V = TypeVar("V")

# (parent id, filter, first): the initiatives of one buurt or network.
ParentKey = tuple[uuid.UUID, InitiativeFilter, int]


class GraphQLContext(BaseContext):
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal | None,
        settings: Settings,
        cursors: Cursors | None = None,
    ) -> None:
        super().__init__()
        # Signs and reads list cursors, as REST's do (the same secret and kinds).
        self.cursors = cursors or Cursors(settings.secret("secret_key"))
        self.session = session
        self.principal = principal
        self.settings = settings
        self.lock = asyncio.Lock()
        self._viewer: Viewer | None = None
        self._themes: dict[str, ThemeView] | None = None
        self.loaders = Loaders(self)

    async def viewer(self) -> Viewer:
        """The caller and their networks, read once per request (the first call queries)."""
        if self._viewer is None:
            async with self.lock:
                if self._viewer is None:
                    self._viewer = await service.viewer(self.session, self.principal)
        return self._viewer

    async def themes(self) -> dict[str, ThemeView]:
        """The active themes by code (one query per request, only when a field asks)."""
        if self._themes is None:
            async with self.lock:
                if self._themes is None:
                    self._themes = {t.code: t for t in await service.themes(self.session)}
        return self._themes

    async def read_only(self) -> None:
        """The operation is a query: run its statements without a transaction (AUTOCOMMIT).

        Saves BEGIN and COMMIT, two of a list request's round trips to PostgreSQL. The answers are
        the same: at READ COMMITTED (the server's default, never changed here) every statement sees
        a snapshot of its own inside a transaction too, and a query writes nothing. Mutations keep
        the request's one transaction. Only while the session has no connection yet (the first use
        sets it up); the pool resets the connection's isolation level on check-in.
        """
        async with self.lock:
            if not self.session.in_transaction():
                await self.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

    def after_write(self) -> None:
        """A mutation changed data: drop what the loaders cached so nested fields read it fresh."""
        self.loaders = Loaders(self)


def _batch(
    ctx: GraphQLContext, fetch: Callable[[AsyncSession, Viewer, list[K]], Awaitable[Sequence[V]]]
) -> DataLoader[K, V]:
    """A loader whose batch function runs one service call for a whole level of keys."""

    async def load(keys: list[K]) -> Sequence[V]:
        viewer = await ctx.viewer()
        async with ctx.lock:
            return await fetch(ctx.session, viewer, keys)

    return DataLoader(load_fn=load)


def _initiatives_of(ctx: GraphQLContext, parent: str) -> DataLoader[ParentKey, list[InitiativeView]]:
    """Initiatives per parent; keys sharing a filter and page size go in one statement."""

    async def fetch(
        session: AsyncSession, viewer: Viewer, keys: list[ParentKey]
    ) -> list[list[InitiativeView]]:
        groups: dict[tuple[InitiativeFilter, int], list[uuid.UUID]] = defaultdict(list)
        for parent_id, flt, first in keys:
            groups[(flt, first)].append(parent_id)
        found: dict[ParentKey, list[InitiativeView]] = {}
        for (flt, first), parent_ids in groups.items():
            lists = await service.initiatives_of(session, viewer, parent, parent_ids, flt, first)
            found.update({(p, flt, first): items for p, items in zip(parent_ids, lists, strict=True)})
        return [found[key] for key in keys]

    return _batch(ctx, fetch)


def _level(
    ctx: GraphQLContext, fetch: Callable[[AsyncSession, Viewer, list[K]], Awaitable[Sequence[V]]]
) -> DataLoader[tuple[K, ...], list[V]]:
    """A coarse loader: one key is the ids of a whole list (one future per list, not per item); the
    lists asked for in the same tick still go in one service call."""

    async def fetch_levels(
        session: AsyncSession, viewer: Viewer, levels: list[tuple[K, ...]]
    ) -> list[list[V]]:
        unique = list(dict.fromkeys(key for level in levels for key in level))
        found = dict(zip(unique, await fetch(session, viewer, unique), strict=True))
        return [[found[key] for key in level] for level in levels]

    return _batch(ctx, fetch_levels)


def _public(fetch: Callable[[AsyncSession, list[uuid.UUID]], Awaitable[Sequence[Any]]]) -> Any:
    """Adapt a service call that needs no viewer (public data) to the loader signature."""

    async def call(session: AsyncSession, _viewer: Viewer, keys: list[uuid.UUID]) -> Sequence[Any]:
        return await fetch(session, keys)

    return call


class Loaders:
    """Every DataLoader of one request, each made when first asked for (a list query uses one)."""

    def __init__(self, ctx: GraphQLContext) -> None:
        self.ctx = ctx

    @cached_property
    def initiative(self) -> DataLoader[uuid.UUID, InitiativeView | None]:
        return _batch(self.ctx, service.initiatives_by_ids)

    @cached_property
    def grants_of_initiatives(self) -> DataLoader[tuple[uuid.UUID, ...], list[GrantView | None]]:
        return _level(self.ctx, service.grants_of_initiatives)

    @cached_property
    def initiatives_of_buurt(self) -> DataLoader[ParentKey, list[InitiativeView]]:
        return _initiatives_of(self.ctx, "buurt")

    @cached_property
    def initiatives_of_network(self) -> DataLoader[ParentKey, list[InitiativeView]]:
        return _initiatives_of(self.ctx, "network")

    @cached_property
    def network(self) -> DataLoader[uuid.UUID, NetworkView | None]:
        return _batch(self.ctx, _public(network_service.networks_by_ids))

    @cached_property
    def area_of_network(self) -> DataLoader[uuid.UUID, list[NeighbourhoodView]]:
        return _batch(self.ctx, _public(network_service.areas_of_networks))

    @cached_property
    def networks_of_buurt(self) -> DataLoader[uuid.UUID, list[NetworkView]]:
        return _batch(self.ctx, _public(network_service.networks_of_buurten))

    @cached_property
    def year_plans_of_network(self) -> DataLoader[uuid.UUID, list[YearPlanView]]:
        return _batch(self.ctx, _public(network_service.year_plans_of_networks))

    @cached_property
    def grants_of_network(self) -> DataLoader[uuid.UUID, list[GrantView]]:
        return _batch(self.ctx, network_service.grants_of_networks)

    @cached_property
    def members_of_network(self) -> DataLoader[uuid.UUID, list[MemberView] | None]:
        return _batch(self.ctx, network_service.members_of_networks)

    @cached_property
    def figures(self) -> DataLoader[FigureKey, AreaFigures]:
        """Neighbourhood statistics: the keys of one tick grouped by (period, measures), one
        computation per group for all its buurten."""

        async def load(keys: Sequence[FigureKey]) -> list[AreaFigures]:
            groups: dict[tuple[Period, tuple[str, ...]], list[str]] = defaultdict(list)
            for code, period, measures in keys:
                groups[(period, measures)].append(code)
            ctx = self.ctx
            policy, today = stats_service.policy_from(ctx.settings), local_today()
            found: dict[FigureKey, AreaFigures] = {}
            async with ctx.lock:
                for (period, measures), codes in groups.items():
                    result = await areas.buurt_figures(ctx.session, codes, measures, period, policy, today)
                    found.update({(c, period, measures): result[c] for c in codes})
            app: Any = getattr(ctx.request, "app", None)  # absent when a test executes the schema
            if app is not None:
                as_of = min((f.as_of for f in found.values()), default=None)
                rollups.refresh_if_stale(app.state.db, ctx.settings, as_of)
            return [found[key] for key in keys]

        return DataLoader(load_fn=load)


# (buurt code, period, measure ids in catalogue order)
FigureKey = tuple[str, Period, tuple[str, ...]]


def context_getter(settings: Settings) -> Callable[..., Awaitable[GraphQLContext]]:
    """FastAPI dependency: the same unit of work and the same (optional) bearer token check as REST."""

    async def get(
        request: Request,
        uow: Annotated[UnitOfWork, Depends(request_unit_of_work, scope="function")],
        authorization: Annotated[str | None, Header()] = None,
    ) -> GraphQLContext:
        principal = await optional_principal(request, authorization)
        return GraphQLContext(uow.session, principal, settings, request.app.state.cursors)

    return get
