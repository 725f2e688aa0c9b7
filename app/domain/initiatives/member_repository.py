"""The network members' queries of the initiatives context: who belongs to a network, with what role.

Contact details are members-only: ``members_of_networks`` filters on the viewer's own networks in SQL.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.identity.models import User
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.models import NetworkMember
from app.domain.initiatives.schemas import ContactView, MemberView

M = table_of(NetworkMember).c


def _member(row: Any) -> MemberView:
    return MemberView(
        id=row.id,
        network_id=row.network_id,
        display_name=row.display_name,
        is_resident=row.is_resident,
        role=row.role,
        has_account=row.user_id is not None,
        contact=ContactView(row.display_name, row.email, row.phone),
        version=row.version,
    )


async def members_of_networks(
    session: AsyncSession, viewer: Viewer, network_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[MemberView]]:
    """Members per network, for networks the viewer belongs to only (the filter is in the statement)."""
    allowed = [n for n in network_ids if n in viewer.private_networks]
    grouped: dict[uuid.UUID, list[MemberView]] = defaultdict(list)
    if not allowed:
        return grouped
    query = (
        sa.select(
            M.id, M.network_id, M.display_name, M.is_resident, M.role, M.user_id, M.email, M.phone, M.version
        )
        .where(M.network_id.in_(allowed), M.network_id.in_(viewer.private_networks))
        .order_by(M.display_name, M.id)
    )
    for row in await session.execute(query):
        grouped[row.network_id].append(_member(row))
    return grouped


async def member_counts(session: AsyncSession, network_id: uuid.UUID) -> tuple[int, int]:
    """(residents, members) of a network."""
    query = select(sa.func.count().filter(col(NetworkMember.is_resident)), sa.func.count()).where(
        NetworkMember.network_id == network_id
    )
    residents, members = (await session.execute(query)).one()
    return int(residents), int(members)


async def lock_member(session: AsyncSession, member_id: uuid.UUID) -> NetworkMember | None:
    query = select(NetworkMember).where(NetworkMember.id == member_id).with_for_update()
    return (await session.scalars(query)).one_or_none()


async def member_network(session: AsyncSession, member_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(NetworkMember.network_id).where(NetworkMember.id == member_id))


async def user_linked(session: AsyncSession, network_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    query = select(NetworkMember.id).where(
        NetworkMember.network_id == network_id, NetworkMember.user_id == user_id
    )
    return (await session.scalar(query)) is not None


async def user_role(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    return await session.scalar(select(User.role).where(User.id == user_id, col(User.active)))
