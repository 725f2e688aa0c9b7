"""The per-request GraphQL context: the caller, where to read and write, the viewer and the loaders.

A query reads in short sessions of its own (``loaders.reads``); a mutation reads and writes in the
request's unit of work (``app.web.unit_of_work``: one transaction per request, committed once).
Loaders are made per request (their cache never outlives it) and call the same services as REST,
passing the same viewer, so the visibility rules are those of the statements the services run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from fastapi import Request
from strawberry.fastapi import BaseContext

from app.db import Database
from app.domain.initiatives import service
from app.domain.initiatives.access import Viewer, may_belong_to_networks
from app.domain.initiatives.schemas import ThemeView
from app.domain.unit_of_work.work import UnitOfWork, finish
from app.graphql.loaders import Loaders
from app.graphql.loaders.reads import InUnitOfWork, Reads, ShortReads
from app.security.principal import Principal
from app.settings import Settings
from app.web.cursors import Cursors
from app.web.principal import optional_principal
from app.web.unit_of_work import new_unit_of_work

T = TypeVar("T")


class Once(Generic[T]):
    """An answer read at most once per request: the first caller starts the read, every caller (at
    the same time or later) awaits that same read."""

    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._task: asyncio.Future[T] | None = None

    async def get(self) -> T:
        if self._task is None:
            self._task = asyncio.ensure_future(self._read())
        # A caller given up on (a sibling field failed) must not cancel the read the others await.
        return await asyncio.shield(self._task)


class GraphQLContext(BaseContext):
    """``uow`` is the request's unit of work, or how to make it (``context_getter``): then it is made
    when an operation first asks for it (a mutation; a query never does), and ``finish`` ends it as
    ``app.web.unit_of_work`` ends REST's (committed, or failed when the request failed)."""

    def __init__(
        self,
        db: Database,
        uow: UnitOfWork | Callable[[], UnitOfWork],
        principal: Principal | None,
        settings: Settings,
        cursors: Cursors | None = None,
        reads: ShortReads | None = None,
    ) -> None:
        super().__init__()
        # Signs and reads list cursors, as REST's do (the same secret and kinds).
        self.cursors = cursors or Cursors(settings.secret("secret_key"))
        self.db = db
        self._make_uow = None if isinstance(uow, UnitOfWork) else uow
        self._uow = uow if isinstance(uow, UnitOfWork) else None
        self.principal = principal
        self.settings = settings
        self.reads: Reads = reads or ShortReads(db)
        self._viewer = Once(self._read_viewer)
        self._themes = Once(self._read_themes)
        self.loaders = Loaders(self)
        # Set when the database could not serve a field: the request is then answered 503 as a
        # whole (app.graphql.errors), not 200 with "Unexpected error." in place of the data.
        self.database_unavailable = False

    @property
    def uow(self) -> UnitOfWork:
        if self._uow is None and self._make_uow is not None:
            self._uow = self._make_uow()
        assert self._uow is not None  # one of the two is always given
        return self._uow

    async def finish(self, error: BaseException | None) -> None:
        """End the unit of work this context made, if the operation asked for one: commit it, or
        fail it when ``error`` ended the request (``app.domain.unit_of_work.work.finish``)."""
        if self._make_uow is not None and self._uow is not None:
            await finish(self._uow, error)

    async def viewer(self) -> Viewer:
        """The caller and their networks, read once per request."""
        # Most dashboard callers are anonymous: their viewer is known without a read (or a task).
        if not may_belong_to_networks(self.principal):
            return Viewer(principal=self.principal)
        return await self._viewer.get()

    async def themes(self) -> dict[str, ThemeView]:
        """The active themes by code (read once per request, only when a field asks)."""
        return await self._themes.get()

    async def _read_viewer(self) -> Viewer:
        async with self.reads.session() as session:
            return await service.viewer(session, self.principal)

    async def _read_themes(self) -> dict[str, ThemeView]:
        async with self.reads.session() as session:
            return {t.code: t for t in await service.themes(session)}

    def in_unit_of_work(self) -> InUnitOfWork:
        """The operation writes (a mutation): from now on every read of this request is made in the
        request's unit of work too, so answers show what the mutation wrote before it commits."""
        if not isinstance(self.reads, InUnitOfWork):
            self.reads = InUnitOfWork(self.uow)
        return self.reads

    def after_write(self) -> None:
        """A mutation changed data: drop what the loaders cached so nested fields read it fresh."""
        self.loaders = Loaders(self)


def context_getter(settings: Settings) -> Callable[..., Awaitable[GraphQLContext]]:
    """FastAPI dependency: the same (optional) bearer token check as REST, and the request's unit of
    work as REST's is made (``app.web.unit_of_work``), but only when an operation asks for it: a
    query never does, and no dependency of FastAPI's is set up and ended around it per request. The
    router ends it (``GraphQLContext.finish``) before the answer is sent, as REST's dependency does.

    The queries' reads are set up once per database (the app's lifespan makes the database, after
    the schema is mounted) and shared by every request."""
    reads: ShortReads | None = None

    async def get(request: Request) -> GraphQLContext:
        nonlocal reads
        state = request.app.state
        if reads is None or reads.db is not state.db:
            reads = ShortReads(state.db)
        # Read here rather than declared as a Header parameter: one parameter less for FastAPI to
        # solve per request (the route is not in the OpenAPI document).
        principal = await optional_principal(request, request.headers.get("authorization"))
        return GraphQLContext(
            state.db, lambda: new_unit_of_work(request), principal, settings, state.cursors, reads
        )

    return get
