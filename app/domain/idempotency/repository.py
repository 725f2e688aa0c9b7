"""All SQL of the idempotency keys.

A request claims its key inside its own transaction (``claim_in``): a transaction-scoped advisory lock
on the key marks it as in flight to every other transaction at once (a concurrent duplicate fails to
take it and answers 409 without waiting), and the claim row commits with the work and the stored
answer, or disappears with the rollback. One statement, no extra transaction or connection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.idempotency.models import IdempotencyKey, KeyState

_table = table_of(IdempotencyKey)


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


# Advisory-lock namespace (the two-int4 form, kept apart from the bigint locks of jobs and migrations).
LOCK_CLASS = 0x6964_656D  # "idem"

_CLAIM_COLUMNS = (
    "owner", "key", "client_id", "fingerprint", "state", "claim_token", "locked_until", "response_status",
    "response_headers", "response_body", "resource", "household_id", "resource_id", "created_at",
    "expires_at",
)  # fmt: skip
_COMPUTED = ("locked_until", "created_at", "expires_at")
_TAKEN_OVER = ", ".join(f"{c} = EXCLUDED.{c}" for c in _CLAIM_COLUMNS[2:])


def claim_ctes(gate: str | None = None) -> str:
    """The claim as CTEs another statement can start with (binds ``CLAIM_BINDS``, values
    ``claim_params``): ``key_lock`` takes a transaction-scoped advisory lock on the key without
    waiting (``locked``); ``claimed`` inserts the claim (only when locked) and returns its
    ``claim_token``. An existing row is taken over only when expired, or when an identical request
    claimed it and died (its lease ran out without storing an answer). The claim may carry its answer
    already (state done): the work and its answer are then written by one statement.

    With ``gate`` (the name of an earlier CTE) the key is claimed only when that CTE produced a row:
    for a statement that runs on its own (no transaction to roll back), whose claim must be written
    only together with the work its answer describes."""
    gated = f" AND EXISTS (SELECT 1 FROM {gate})" if gate else ""  # noqa: S608 - a CTE name of ours
    values = ", ".join(
        {"locked_until": "now() + :k_lease", "created_at": "now()", "expires_at": "now() + :k_retention"}.get(
            c, f":k_{c}"
        )
        for c in _CLAIM_COLUMNS
    )
    return f"""key_lock AS (
        SELECT pg_try_advisory_xact_lock({LOCK_CLASS}, hashtext(:k_owner || ' ' || :k_key)) AS locked
    ), claimed AS (
        INSERT INTO idempotency_keys ({", ".join(_CLAIM_COLUMNS)})
        SELECT {values} FROM key_lock WHERE key_lock.locked{gated}
        ON CONFLICT (owner, key) DO UPDATE SET {_TAKEN_OVER}
        WHERE idempotency_keys.expires_at < now()
           OR (idempotency_keys.state = '{KeyState.in_flight}' AND idempotency_keys.locked_until < now()
               AND idempotency_keys.fingerprint = EXCLUDED.fingerprint)
        RETURNING claim_token
    )"""  # noqa: S608 - only our own column names and constants are formatted in


CLAIM_BINDS = (
    *(sa.bindparam(f"k_{c}", type_=_table.c[c].type) for c in _CLAIM_COLUMNS if c not in _COMPUTED),
    sa.bindparam("k_lease", type_=sa.Interval),
    sa.bindparam("k_retention", type_=sa.Interval),
)


@dataclass(frozen=True)
class StoredAnswer:
    """What a finished request leaves with its key: the answer to replay (its status, the headers
    worth replaying, the body bytes, as the face that answered made them) and what it touched (for
    the access-log entry of a replay)."""

    status: int
    headers: dict[str, str]
    body: bytes
    resource: str | None = None
    household_id: uuid.UUID | None = None
    resource_id: uuid.UUID | None = None


def claim_params(
    *,
    owner: str,
    key: str,
    client_id: str,
    fingerprint: str,
    claim_token: uuid.UUID,
    lease: timedelta,
    retention: timedelta,
    answer: StoredAnswer | None = None,
) -> dict[str, Any]:
    """The values ``claim_ctes`` binds: in flight for ``lease``, or done with ``answer``."""
    return {
        "k_owner": owner,
        "k_key": key,
        "k_client_id": client_id,
        "k_fingerprint": fingerprint,
        "k_state": str(KeyState.in_flight if answer is None else KeyState.done),
        "k_claim_token": claim_token,
        "k_lease": lease if answer is None else None,
        "k_retention": retention,
        "k_response_status": answer.status if answer else None,
        "k_response_headers": answer.headers if answer else None,
        "k_response_body": answer.body if answer else None,
        "k_resource": answer.resource if answer else None,
        "k_household_id": answer.household_id if answer else None,
        "k_resource_id": answer.resource_id if answer else None,
    }


# One round trip: (holds the lock, claim token or NULL).
CLAIM_IN = sa.text(
    f"WITH {claim_ctes()} SELECT key_lock.locked, (SELECT claim_token FROM claimed) FROM key_lock"  # noqa: S608
).bindparams(*CLAIM_BINDS)


async def claim_in(session: AsyncSession, params: dict[str, Any]) -> tuple[bool, bool]:
    """Claim the key (``claim_params``) in the request's transaction: (holds the lock, won the claim)."""
    locked, won = (await session.execute(CLAIM_IN, params)).one()
    return bool(locked), won == params["k_claim_token"]


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


async def load_in(session: AsyncSession, *, owner: str, key: str) -> StoredKey | None:
    """The key as committed now (a statement of its own: a fresh snapshot after ``claim_in``)."""
    row = (await session.execute(_LOAD, {"owner": owner, "key": key})).one_or_none()
    return StoredKey(*row) if row is not None else None


def complete_params(*, owner: str, key: str, claim_token: uuid.UUID, answer: StoredAnswer) -> dict[str, Any]:
    """The values ``COMPLETE`` binds: the claim's key and token, the answer it stores."""
    return {
        "b_owner": owner,
        "b_key": key,
        "b_claim_token": claim_token,
        "v_state": str(KeyState.done),
        "v_locked_until": None,
        "v_response_status": answer.status,
        "v_response_headers": answer.headers,
        "v_response_body": answer.body,
        "v_resource": answer.resource,
        "v_household_id": answer.household_id,
        "v_resource_id": answer.resource_id,
    }


async def complete(
    session: AsyncSession, *, owner: str, key: str, claim_token: uuid.UUID, answer: StoredAnswer
) -> None:
    """Store the answer in the request's transaction (it commits with the work it describes)."""
    params = complete_params(owner=owner, key=key, claim_token=claim_token, answer=answer)
    await session.execute(COMPLETE, params)


# Built once (a statement built per call costs more to look up in the compiled cache than to run).
COMPLETE = (
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
