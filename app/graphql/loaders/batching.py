"""How a loader's batch function reads: once per level of keys, in a read of its own.

Every loader is made per request (its cache never outlives it) and calls the same services as REST
with the request's viewer, so the visibility rules are those of the statements the services run.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from app.db import Database
from app.domain.initiatives.access import Viewer
from app.graphql.loaders.reads import Reads
from app.settings import Settings

K = TypeVar("K")
V = TypeVar("V")

Fetch = Callable[[AsyncSession, Viewer, list[K]], Awaitable[Sequence[V]]]


class Source(Protocol):
    """What the loaders need of the request's GraphQL context."""

    @property
    def db(self) -> Database: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def reads(self) -> Reads: ...

    async def viewer(self) -> Viewer: ...


def batch(source: Source, fetch: Fetch[K, V]) -> DataLoader[K, V]:
    """A loader whose batch function runs one service call for a whole level of keys."""

    async def load(keys: list[K]) -> Sequence[V]:
        viewer = await source.viewer()
        async with source.reads.session() as session:
            return await fetch(session, viewer, keys)

    return DataLoader(load_fn=load)


def level(source: Source, fetch: Fetch[K, V]) -> DataLoader[tuple[K, ...], list[V]]:
    """A coarse loader: one key is the ids of a whole list (one future per list, not per item); the
    lists asked for in the same tick still go in one service call."""

    async def fetch_levels(
        session: AsyncSession, viewer: Viewer, levels: list[tuple[K, ...]]
    ) -> list[list[V]]:
        unique = list(dict.fromkeys(key for level in levels for key in level))
        found = dict(zip(unique, await fetch(session, viewer, unique), strict=True))
        return [[found[key] for key in level] for level in levels]

    return batch(source, fetch_levels)


def public(fetch: Callable[[AsyncSession, list[uuid.UUID]], Awaitable[Sequence[Any]]]) -> Any:
    """Adapt a service call that needs no viewer (public data) to the loader signature."""

    async def call(session: AsyncSession, _viewer: Viewer, keys: list[uuid.UUID]) -> Sequence[Any]:
        return await fetch(session, keys)

    return call
