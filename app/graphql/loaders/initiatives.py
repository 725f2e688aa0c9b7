"""Loaders of initiatives: by id, per buurt or network, and the grants of a list of them."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from app.domain.initiatives import service
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.schemas import GrantView, InitiativeFilter, InitiativeView
from app.graphql.loaders.batching import Source, batch, level

# (parent id, filter, first): the initiatives of one buurt or network.
ParentKey = tuple[uuid.UUID, InitiativeFilter, int]


def initiative(source: Source) -> DataLoader[uuid.UUID, InitiativeView | None]:
    return batch(source, service.initiatives_by_ids)


def grants_of_initiatives(source: Source) -> DataLoader[tuple[uuid.UUID, ...], list[GrantView | None]]:
    return level(source, service.grants_of_initiatives)


def initiatives_of(source: Source, parent: str) -> DataLoader[ParentKey, list[InitiativeView]]:
    """Initiatives per parent (``buurt`` or ``network``); keys sharing a filter and page size go in
    one statement."""

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

    return batch(source, fetch)
