"""Every query of the informal network map."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.support_network.models import NetworkPerson


async def get(
    session: AsyncSession, household_id: uuid.UUID, person_id: uuid.UUID, *, for_update: bool = False
) -> NetworkPerson | None:
    query = select(NetworkPerson).where(
        NetworkPerson.id == person_id, NetworkPerson.household_id == household_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    household_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[NetworkPerson]:
    """In the order they were added: (created_at, id) ascending."""
    query = select(NetworkPerson).where(NetworkPerson.household_id == household_id)
    if after is not None:
        key = sa.tuple_(col(NetworkPerson.created_at), col(NetworkPerson.id))
        query = query.where(key > sa.tuple_(*(sa.literal(v) for v in after)))
    query = query.order_by(col(NetworkPerson.created_at), col(NetworkPerson.id)).limit(limit)
    return list((await session.scalars(query)).all())


async def read_rows(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[NetworkPerson]:
    return list((await session.scalars(select(NetworkPerson).where(where))).all())
