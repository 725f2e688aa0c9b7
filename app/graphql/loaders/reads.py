"""Where the GraphQL resolvers and loaders read: a short session per read for a query, the request's
unit of work for a mutation.

A query writes nothing, so each loader's batch (and each root field) opens a session of its own,
runs its statements and gives the connection back: loaders of one level run side by side on
connections of their own instead of taking turns on one. Their statements run without a transaction
(AUTOCOMMIT): that saves BEGIN and COMMIT, two round trips to PostgreSQL, and the answers are the
same, since at READ COMMITTED (the server's default, never changed here) every statement inside a
transaction sees a snapshot of its own too. With streaming replicas configured
(``WIJKWERK_READ_DATABASE_URL``) these reads go there (``Database.reading``): the public and
dashboard queries may be a few seconds behind, and never write.

A mutation reads in its unit of work instead: the object it answers with (an initiative with the
grant just decided) must show the writes of its own transaction, which no other connection sees
before the commit. One session runs one statement at a time, while graphql-core resolves sibling
fields side by side, so the mutation's readers take turns on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.domain.unit_of_work.work import UnitOfWork


class Reads(Protocol):
    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session to read with, for the block."""
        ...


class ShortReads:
    """Each read in a short session of its own, every statement without a transaction.

    The sessions come from ``Database.reading()``: a streaming replica's when one is configured and
    close enough behind, else the primary's; either takes a connection only when its first
    statement runs, so a read answered from memory (the theme list, an anonymous caller's viewer)
    takes none on the primary.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.db.reading()


class InUnitOfWork:
    """A mutation's reads and writes, all in the request's unit of work, one at a time."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._turn:
            yield self.uow.session

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[UnitOfWork]:
        """The unit of work for one use case, in a savepoint: on a broken rule nothing it did stays
        (the error leaves the block), the mutations before it in the same request do."""
        async with self._turn, self.uow.session.begin_nested():
            yield self.uow
