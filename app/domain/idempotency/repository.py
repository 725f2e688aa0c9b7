"""All SQL of the idempotency keys.

A request claims its key inside its own transaction (``claim_in``): a transaction-scoped advisory lock
on the key marks it as in flight to every other transaction at once (a concurrent duplicate fails to
take it and answers 409 without waiting), and the claim row commits with the work and the stored
answer, or disappears with the rollback. One statement, no extra transaction or connection.

``try_claim``/``release`` claim on a short transaction of their own (an engine connection, committed
at once), for callers outside a request's unit of work.
"""

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


def _claim_statement(
    *,
    owner: str,
    key: str,
    client_id: str,
    fingerprint: str,
    claim_token: uuid.UUID,
    lease: timedelta,
    retention: timedelta,
) -> Any:
    """INSERT the claim; an existing row is taken over only when expired, or when an identical
    request claimed it and died (its lease ran out without storing an answer)."""
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
    return _upsert(statement)


def _upsert(statement: Any) -> Any:
    excluded = statement.excluded
    current = _table.c
    now = sa.func.now()
    return statement.on_conflict_do_update(
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


# Advisory-lock namespace (the two-int4 form, kept apart from the bigint locks of jobs and migrations).
LOCK_CLASS = 0x6964_656D  # "idem"


def _claim_in_statement() -> Any:
    """Built once: lock the key for this transaction (without waiting) and, only when that worked,
    insert the claim (``_upsert``). Returns (locked, claim token or NULL)."""
    lock = sa.select(
        sa.func.pg_try_advisory_xact_lock(
            sa.literal(LOCK_CLASS, sa.Integer),
            sa.func.hashtext(
                sa.bindparam("owner", type_=sa.String) + " " + sa.bindparam("key", type_=sa.String)
            ),
        ).label("locked")
    ).cte("key_lock")
    now = sa.func.now()
    values = sa.select(
        sa.bindparam("owner", type_=sa.String),
        sa.bindparam("key", type_=sa.String),
        sa.bindparam("client_id", type_=sa.String),
        sa.bindparam("fingerprint", type_=sa.String),
        sa.literal(str(KeyState.in_flight), sa.String),
        sa.bindparam("claim_token", type_=sa.Uuid),
        now + sa.bindparam("lease", type_=sa.Interval),
        now,
        now + sa.bindparam("retention", type_=sa.Interval),
    ).where(lock.c.locked)
    columns = [
        "owner", "key", "client_id", "fingerprint", "state", "claim_token", "locked_until", "created_at",
        "expires_at",
    ]  # fmt: skip
    claimed = _upsert(insert(_table).from_select(columns, values)).cte("claimed")
    return sa.select(lock.c.locked, sa.select(claimed.c.claim_token).scalar_subquery())


_CLAIM_IN = _claim_in_statement()


async def claim_in(
    session: AsyncSession,
    *,
    owner: str,
    key: str,
    client_id: str,
    fingerprint: str,
    claim_token: uuid.UUID,
    lease: timedelta,
    retention: timedelta,
) -> tuple[bool, bool]:
    """Claim the key in the request's transaction: (holds the lock, won the claim)."""
    params = {
        "owner": owner,
        "key": key,
        "client_id": client_id,
        "fingerprint": fingerprint,
        "claim_token": claim_token,
        "lease": lease,
        "retention": retention,
    }
    locked, won = (await session.execute(_CLAIM_IN, params)).one()
    return bool(locked), won == claim_token


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
    """Claim the key on a short transaction of its own; True when this attempt now holds it."""
    upsert = _claim_statement(
        owner=owner,
        key=key,
        client_id=client_id,
        fingerprint=fingerprint,
        claim_token=claim_token,
        lease=lease,
        retention=retention,
    )
    async with engine.begin() as connection:
        won = (await connection.execute(upsert)).scalar_one_or_none()
    return won == claim_token


def _load_statement() -> Any:
    c = _table.c
    return sa.select(
        c.state,
        c.fingerprint,
        c.response_status,
        c.response_headers,
        c.response_body,
        c.resource,
        c.household_id,
        c.resource_id,
    ).where(c.owner == sa.bindparam("owner"), c.key == sa.bindparam("key"))


_LOAD = _load_statement()


async def load(engine: AsyncEngine, *, owner: str, key: str) -> StoredKey | None:
    async with engine.connect() as connection:
        row = (await connection.execute(_LOAD, {"owner": owner, "key": key})).one_or_none()
    return StoredKey(*row) if row is not None else None


async def load_in(session: AsyncSession, *, owner: str, key: str) -> StoredKey | None:
    """The key as committed now (a statement of its own: a fresh snapshot after ``claim_in``)."""
    row = (await session.execute(_LOAD, {"owner": owner, "key": key})).one_or_none()
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
        _COMPLETE,
        {
            "b_owner": owner,
            "b_key": key,
            "b_claim_token": claim_token,
            "v_state": str(KeyState.done),
            "v_locked_until": None,
            "v_response_status": status,
            "v_response_headers": headers,
            "v_response_body": body,
            "v_resource": resource,
            "v_household_id": household_id,
            "v_resource_id": resource_id,
        },
    )


# Built once (a statement built per call costs more to look up in the compiled cache than to run).
_COMPLETE = (
    sa.update(_table)
    .where(
        _table.c.owner == sa.bindparam("b_owner"),
        _table.c.key == sa.bindparam("b_key"),
        _table.c.claim_token == sa.bindparam("b_claim_token"),
    )
    .values(
        {
            name: sa.bindparam(f"v_{name}", type_=_table.c[name].type)
            for name in (
                "state",
                "locked_until",
                "response_status",
                "response_headers",
                "response_body",
                "resource",
                "household_id",
                "resource_id",
            )
        }
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
