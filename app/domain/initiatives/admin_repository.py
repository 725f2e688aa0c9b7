"""Queries of the administrators' set-up of resident networks (kept apart from the hot-path repository).

Administrators see networks, their buurten and member counts: the counts are aggregated in SQL, so no
member row (name, contact details) ever reaches this side.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.initiatives.models import (
    Initiative,
    InitiativeStatus,
    NetworkArea,
    NetworkMember,
    ResidentNetwork,
)
from app.domain.initiatives.repository import NETWORK_COLUMNS
from app.domain.initiatives.schemas import NetworkView

# An initiative in one of these states still needs its buurt to be in the network's area.
OPEN_STATUSES = (
    InitiativeStatus.idea,
    InitiativeStatus.requested,
    InitiativeStatus.granted,
    InitiativeStatus.running,
)


async def network_page(
    session: AsyncSession,
    municipality_id: uuid.UUID | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[NetworkView]:
    """Networks ordered by (name, id), after the key of the previous page; ``limit`` rows at most."""
    query = sa.select(*NETWORK_COLUMNS)
    if municipality_id is not None:
        query = query.where(col(ResidentNetwork.municipality_id) == municipality_id)
    if after is not None:
        query = query.where(sa.tuple_(col(ResidentNetwork.name), col(ResidentNetwork.id)) > sa.tuple_(*after))
    rows = await session.execute(
        query.order_by(col(ResidentNetwork.name), col(ResidentNetwork.id)).limit(limit)
    )
    return [NetworkView(*row) for row in rows]


async def member_counts(
    session: AsyncSession, network_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """network id -> (residents, members), in one statement for the whole page."""
    query = (
        select(
            NetworkMember.network_id,
            sa.func.count().filter(col(NetworkMember.is_resident)),
            sa.func.count(),
        )
        .where(col(NetworkMember.network_id).in_(list(network_ids)))
        .group_by(col(NetworkMember.network_id))
    )
    return {network_id: (int(r), int(m)) for network_id, r, m in await session.execute(query)}


async def open_initiatives_in(
    session: AsyncSession, network_id: uuid.UUID, area_ids: Iterable[uuid.UUID]
) -> bool:
    """Whether the network has an initiative that is not closed in one of these buurten."""
    query = select(Initiative.id).where(
        Initiative.network_id == network_id,
        col(Initiative.buurt_id).in_(list(area_ids)),
        col(Initiative.status).in_([str(s) for s in OPEN_STATUSES]),
    )
    return (await session.scalar(query.limit(1))) is not None


async def replace_areas(
    session: AsyncSession, network_id: uuid.UUID, removed: Iterable[uuid.UUID], added: Iterable[uuid.UUID]
) -> None:
    removed = list(removed)
    if removed:
        await session.execute(
            sa.delete(NetworkArea).where(
                col(NetworkArea.network_id) == network_id, col(NetworkArea.area_id).in_(removed)
            )
        )
    session.add_all(NetworkArea(network_id=network_id, area_id=area_id) for area_id in added)
