"""The per-request GraphQL context: the caller, where to read and write, the viewer and the loaders.

A query reads in short sessions of its own (``loaders.reads``); a mutation reads and writes in the
request's unit of work (``app.web.unit_of_work``: one transaction per request, committed once).
Loaders are made per request (their cache never outlives it) and call the same services as REST,
passing the same viewer, so the visibility rules are those of the statements the services run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Header, Request
from strawberry.fastapi import BaseContext

from app.db import Database
from app.domain.initiatives import service
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.schemas import ThemeView
from app.domain.unit_of_work.work import UnitOfWork
from app.graphql.loaders import Loaders
from app.graphql.loaders.reads import InUnitOfWork, Reads, ShortReads
from app.security.principal import Principal
from app.settings import Settings
from app.web.cursors import Cursors
from app.web.principal import optional_principal
from app.web.unit_of_work import request_unit_of_work

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
    def __init__(
        self,
        db: Database,
        uow: UnitOfWork,
        principal: Principal | None,
        settings: Settings,
        cursors: Cursors | None = None,
        reads: ShortReads | None = None,
    ) -> None:
        super().__init__()
        # Signs and reads list cursors, as REST's do (the same secret and kinds).
        self.cursors = cursors or Cursors(settings.secret("secret_key"))
        self.db = db
        self.uow = uow
        self.principal = principal
        self.settings = settings
        self.reads: Reads = reads or ShortReads(db)
        self._viewer = Once(self._read_viewer)
        self._themes = Once(self._read_themes)
        self.loaders = Loaders(self)
        # Set when the database could not serve a field: the request is then answered 503 as a
        # whole (app.graphql.errors), not 200 with "Unexpected error." in place of the data.
        self.database_unavailable = False

    async def viewer(self) -> Viewer:
        """The caller and their networks, read once per request."""
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
    """FastAPI dependency: the same unit of work and the same (optional) bearer token check as REST.

    The queries' reads are set up once per database (the app's lifespan makes the database, after
    the schema is mounted) and shared by every request."""
    reads: ShortReads | None = None

    async def get(
        request: Request,
        uow: Annotated[UnitOfWork, Depends(request_unit_of_work, scope="function")],
        authorization: Annotated[str | None, Header()] = None,
    ) -> GraphQLContext:
        nonlocal reads
        state = request.app.state
        if reads is None or reads.db is not state.db:
            reads = ShortReads(state.db)
        principal = await optional_principal(request, authorization)
        return GraphQLContext(state.db, uow, principal, settings, state.cursors, reads)

    return get
