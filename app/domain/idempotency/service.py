"""The rules of an Idempotency-Key (DESIGN.md §4), independent of HTTP.

* same key, same request, first one finished -> replay its stored answer;
* same key, another request (method, path or body differ) -> 422 ``idempotency_key_reused``;
* same key while the first is still working -> 409 ``idempotency_key_in_flight``;
* a first attempt that failed releases the key (nothing was written), so a retry runs again: a claim
  made in the request's transaction (``claim_in``, what routes use) simply rolls back with it;
* keys expire after the retention period and are purged by ``repository.purge_expired``.

``app/api/idempotency.py`` wires this into routes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.domain.errors import Conflict, FieldError, ValidationFailed
from app.domain.idempotency import repository
from app.domain.idempotency.models import KeyState
from app.domain.idempotency.repository import Answer, StoredKey

# An in-flight claim older than this belongs to a request that died; an identical retry may take over.
IN_FLIGHT_LEASE = timedelta(seconds=60)
DEFAULT_RETENTION = timedelta(hours=24)
CLAIM_ATTEMPTS = 3


@dataclass
class Claim:
    """This attempt holds the key; ``complete`` stores the answer, ``release`` gives the key back."""

    owner: str
    key: str
    claim_token: uuid.UUID


@dataclass(frozen=True)
class Replay:
    """The first attempt's stored answer."""

    stored: StoredKey


@dataclass
class KeyRequest:
    """A request's Idempotency-Key, claimed by the very statement that does the work (``claim_ctes``
    with its answer, ``claim_params``); ``settle`` says what to do when that statement did not win it."""

    owner: str
    key: str
    client_id: str
    fingerprint: str
    retention: timedelta = DEFAULT_RETENTION
    claim: Claim | None = None  # set once this request holds the key
    answered: bool = False  # the answer was stored with the claim (nothing left to store)

    def params(self, claim_token: uuid.UUID, answer: Answer | None) -> dict[str, Any]:
        return repository.claim_params(
            owner=self.owner,
            key=self.key,
            client_id=self.client_id,
            fingerprint=self.fingerprint,
            claim_token=claim_token,
            lease=IN_FLIGHT_LEASE,
            retention=self.retention,
            answer=answer,
        )

    def won(self, claim_token: uuid.UUID, *, answered: bool) -> None:
        self.claim, self.answered = Claim(self.owner, self.key, claim_token), answered


async def settle(session: AsyncSession, request: KeyRequest, *, locked: bool) -> Replay | None:
    """After a statement that did not win ``request``'s key: the earlier request's answer to replay,
    422 (another request) or 409 (still running); None: the key is free again, try once more."""
    stored = await repository.load_in(session, owner=request.owner, key=request.key)
    if stored is not None:
        return _earlier(stored, request.fingerprint)
    if not locked:
        raise in_flight()  # another transaction holds the key and has not committed yet
    return None


def _reused() -> ValidationFailed:
    return ValidationFailed(
        [
            FieldError(
                ("header", "Idempotency-Key"),
                "This key was already used for a different request.",
                "idempotency_key_reused",
            )
        ],
        detail="An Idempotency-Key may only be retried with the identical request.",
    )


def in_flight() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        rule="idempotency_key_in_flight",
    )


def _earlier(stored: StoredKey, fingerprint: str) -> Replay:
    """What an earlier request with this key decided: replay it, or 422 / 409."""
    if stored.fingerprint != fingerprint:
        raise _reused()
    if stored.state == KeyState.done:
        return Replay(stored)
    raise in_flight()


async def claim_in(
    session: AsyncSession,
    *,
    owner: str,
    key: str,
    client_id: str,
    fingerprint: str,
    retention: timedelta = DEFAULT_RETENTION,
) -> Claim | Replay:
    """Claim ``key`` inside the request's transaction (the claim commits with the work or rolls back
    with it: nothing to release), or say what the earlier request with this key decided."""
    return await claim_request(session, KeyRequest(owner, key, client_id, fingerprint, retention))


async def claim_request(session: AsyncSession, request: KeyRequest) -> Claim | Replay:
    """``claim_in`` for a ``KeyRequest``."""
    for _ in range(CLAIM_ATTEMPTS):
        token = uuid.uuid4()
        locked, won = await repository.claim_in(session, request.params(token, None))
        if won:
            request.won(token, answered=False)
            return Claim(request.owner, request.key, token)
        replay = await settle(session, request, locked=locked)
        if replay is not None:
            return replay
        # we hold the lock but the row we ran into is gone (released or purged since): try again
    raise in_flight()


async def claim(
    engine: AsyncEngine,
    *,
    owner: str,
    key: str,
    client_id: str,
    fingerprint: str,
    retention: timedelta = DEFAULT_RETENTION,
) -> Claim | Replay:
    """Claim ``key`` on a short transaction of its own (visible to others at once; ``release`` it
    when the work fails), or say what the earlier request with this key decided."""
    for _ in range(CLAIM_ATTEMPTS):
        token = uuid.uuid4()
        won = await repository.try_claim(
            engine, KeyRequest(owner, key, client_id, fingerprint, retention).params(token, None)
        )
        if won:
            return Claim(owner, key, token)
        stored = await repository.load(engine, owner=owner, key=key)
        if stored is not None:
            return _earlier(stored, fingerprint)
        # the holder failed and released it between our two statements: try again
    raise in_flight()


async def complete(session: AsyncSession, claim: Claim, *, answer: Answer) -> None:
    """Store the answer of the request holding ``claim`` (in its transaction)."""
    await repository.complete(
        session,
        owner=claim.owner,
        key=claim.key,
        claim_token=claim.claim_token,
        status=answer.status,
        headers=answer.headers,
        body=answer.body,
        resource=answer.resource,
        household_id=answer.household_id,
        resource_id=answer.resource_id,
    )


async def release(engine: AsyncEngine, claim: Claim) -> None:
    await repository.release(engine, owner=claim.owner, key=claim.key, claim_token=claim.claim_token)
