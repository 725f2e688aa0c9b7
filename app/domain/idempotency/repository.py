"""All SQL of the idempotency keys. Claims and releases run on their own short transactions (an engine
connection, committed at once) so that a concurrent retry sees the claim while the first request is
still working; completion runs in the request's own transaction, so the stored answer and the work
commit together or not at all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col, select

from app.domain.idempotency.models import IdempotencyKey, KeyState

_table = IdempotencyKey.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StoredKey:
    state: str
    fingerprint: str
    response_status: int | None
    response_headers: dict[str, Any] | None
    response_body: bytes | None
    resource: str | None
    household_id: uuid.UUID | None
    resource_id: uuid.UUID | None


async def try_claim(
    engine: AsyncEngine,
    *,
    owner: str,
    key: str,
    client_id: str,
    fingerprint: str,
    claim_token: uuid.UUID,
    lease: timedelta,
    retention: timedelta,
) -> bool:
    """Claim the key; True when this attempt now holds it.

    A new key is inserted. An existing one is taken over only when it has expired, or when an
    identical request claimed it and died (its lease ran out without storing an answer).
    """
    now = sa.func.now()
    statement = insert(_table).values(
        owner=owner,
        key=key,
        client_id=client_id,
        fingerprint=fingerprint,
        state=str(KeyState.in_flight),
        claim_token=claim_token,
        locked_until=now + lease,
        created_at=now,
        expires_at=now + retention,
    )
    excluded = statement.excluded
    current = _table.c
    upsert = statement.on_conflict_do_update(
        index_elements=[current.owner, current.key],
        set_={
            "client_id": excluded.client_id,
            "fingerprint": excluded.fingerprint,
            "state": excluded.state,
            "claim_token": excluded.claim_token,
            "locked_until": excluded.locked_until,
            "response_status": None,
            "response_headers": None,
            "response_body": None,
            "resource": None,
            "household_id": None,
            "resource_id": None,
            "created_at": excluded.created_at,
            "expires_at": excluded.expires_at,
        },
        where=sa.or_(
            current.expires_at < now,
            sa.and_(
                current.state == str(KeyState.in_flight),
                current.locked_until < now,
                current.fingerprint == excluded.fingerprint,
            ),
        ),
    ).returning(current.claim_token)
    async with engine.begin() as connection:
        won = (await connection.execute(upsert)).scalar_one_or_none()
    return won == claim_token


async def load(engine: AsyncEngine, *, owner: str, key: str) -> StoredKey | None:
    c = _table.c
    query = sa.select(
        c.state,
        c.fingerprint,
        c.response_status,
        c.response_headers,
        c.response_body,
        c.resource,
        c.household_id,
        c.resource_id,
    ).where(c.owner == owner, c.key == key)
    async with engine.connect() as connection:
        row = (await connection.execute(query)).one_or_none()
    return StoredKey(*row) if row is not None else None


async def complete(
    session: AsyncSession,
    *,
    owner: str,
    key: str,
    claim_token: uuid.UUID,
    status: int,
    headers: dict[str, str],
    body: bytes,
    resource: str | None,
    household_id: uuid.UUID | None,
    resource_id: uuid.UUID | None,
) -> None:
    """Store the answer in the request's transaction (it commits with the work it describes)."""
    await session.execute(
        sa.update(_table)
        .where(
            _table.c.owner == owner,
            _table.c.key == key,
            _table.c.claim_token == claim_token,
        )
        .values(
            state=str(KeyState.done),
            locked_until=None,
            response_status=status,
            response_headers=headers,
            response_body=body,
            resource=resource,
            household_id=household_id,
            resource_id=resource_id,
        )
    )


async def release(engine: AsyncEngine, *, owner: str, key: str, claim_token: uuid.UUID) -> None:
    """Drop a claim whose request failed (nothing was written), so the client may retry the key."""
    async with engine.begin() as connection:
        await connection.execute(
            sa.delete(_table).where(
                _table.c.owner == owner,
                _table.c.key == key,
                _table.c.claim_token == claim_token,
                _table.c.state == str(KeyState.in_flight),
            )
        )


async def purge_expired(session: AsyncSession, *, limit: int = 10_000) -> int:
    """Delete expired keys (retention); returns how many went. For the purge job."""
    doomed = (
        select(IdempotencyKey.owner, IdempotencyKey.key)
        .where(col(IdempotencyKey.expires_at) < sa.func.now())
        .limit(limit)
    )
    result = await session.execute(
        sa.delete(_table).where(sa.tuple_(_table.c.owner, _table.c.key).in_(doomed)).returning(_table.c.key)
    )
    return len(result.all())
