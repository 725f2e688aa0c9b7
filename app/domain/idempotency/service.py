"""The rules of an Idempotency-Key, independent of HTTP.

A client that cannot tell whether its POST arrived (a timeout, a dropped connection) sends it again
with the same key; the key makes the retry safe:

* same key, same request, first one finished -> replay its stored answer;
* same key, another request (method, path or body differ) -> 422 ``idempotency_key_reused``;
* same key while the first is still working -> 409 ``idempotency_key_in_flight``;
* a first attempt that failed releases the key (nothing was written), so a retry runs again: the
  claim is made in the request's transaction (``claim``) and simply rolls back with it;
* keys expire after the retention period and are purged by ``repository.purge_expired``.

What an answer looks like is the business of the face that answered (``app/api/idempotency.py``
builds and replays HTTP answers); this module stores it as given (``StoredAnswer``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.domain.errors import Conflict, FieldError, ValidationFailed
from app.domain.idempotency import repository
from app.domain.idempotency.models import KeyState
from app.domain.idempotency.repository import StoredAnswer, StoredKey
from app.domain.unit_of_work.work import UnitOfWork

# An in-flight claim older than this belongs to a request that died; an identical retry may take over.
IN_FLIGHT_LEASE = timedelta(seconds=60)
DEFAULT_RETENTION = timedelta(hours=24)
CLAIM_ATTEMPTS = 3


@dataclass
class Claim:
    """This attempt holds the key; ``complete`` stores the answer."""

    owner: str
    key: str
    claim_token: uuid.UUID


@dataclass(frozen=True)
class Replay:
    """The first attempt's stored answer."""

    stored: StoredKey


@dataclass
class KeyRequest:
    """A request's Idempotency-Key: claimed before the work (``claim``), or by the very statement that
    does the work (``claim_ctes`` with its answer, ``params``; ``settle`` says what to do when that
    statement did not win it)."""

    owner: str
    key: str
    client_id: str
    fingerprint: str
    retention: timedelta = DEFAULT_RETENTION
    claim: Claim | None = None  # set once this request holds the key
    answered: bool = False  # the answer was stored with the claim (nothing left to store)

    def params(self, claim_token: uuid.UUID, answer: StoredAnswer | None) -> dict[str, Any]:
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

    def won(self, claim_token: uuid.UUID, *, answered: bool) -> Claim:
        self.claim, self.answered = Claim(self.owner, self.key, claim_token), answered
        return self.claim


async def settle(uow: UnitOfWork, request: KeyRequest, *, locked: bool) -> Replay | None:
    """After a statement that did not win ``request``'s key: the earlier request's answer to replay,
    422 (another request) or 409 (still running); None: the key is free again, try once more."""
    stored = await repository.load_in(uow.session, owner=request.owner, key=request.key)
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


async def claim(uow: UnitOfWork, request: KeyRequest) -> Claim | Replay:
    """Claim the key inside the work's transaction (the claim commits with the work or rolls back
    with it: nothing to release), or say what the earlier request with this key decided."""
    for _ in range(CLAIM_ATTEMPTS):
        token = uuid.uuid4()
        locked, won = await repository.claim_in(uow.session, request.params(token, None))
        if won:
            return request.won(token, answered=False)
        replay = await settle(uow, request, locked=locked)
        if replay is not None:
            return replay
        # we hold the lock but the row we ran into is gone (rolled back or purged since): try again
    raise in_flight()


async def complete(uow: UnitOfWork, claim: Claim, answer: StoredAnswer) -> None:
    """Store the answer of the request holding ``claim`` (in the work's transaction)."""
    await repository.complete(
        uow.session, owner=claim.owner, key=claim.key, claim_token=claim.claim_token, answer=answer
    )
