"""Queries of the identity context used by the account use cases."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.domain.identity.models import OAuthClient, User


async def client_by_client_id(session: AsyncSession, client_id: str) -> OAuthClient | None:
    statement = select(OAuthClient).where(OAuthClient.client_id == client_id)
    return (await session.execute(statement)).scalars().first()


async def user_by(session: AsyncSession, column: Any, value: Any) -> User | None:
    """The user whose unique ``column`` (username, worker_id, external_subject) holds ``value``."""
    return (await session.execute(select(User).where(column == value))).scalars().first()
