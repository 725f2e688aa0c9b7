"""An idempotency key on a creating mutation: a retried call answers what the first one created.

The same mechanism as REST's ``Idempotency-Key`` (``app.domain.idempotency.service``: the claim in
the request's own transaction, one key per caller, a retention period, the purge job), with the
GraphQL face's own answer: what is stored is the id of the object the first call created, and a
retry with the same key and the same arguments reads that object again (the caller's selection set
decides the shape, as on the first call). The same key with other arguments is refused (rule
``idempotency_key_reused``); while the first call is still running, ``idempotency_key_in_flight``.
A call that fails releases its key with the rest of its work (the mutation's savepoint).

Usage in a mutation's action (after the arguments are checked, before the work)::

    key = mutation_key(info, idempotency_key, "recordMeeting", networkId=network_id, input=input)
    if key is not None and (earlier := await key.claim(uow)) is not None:
        return await read_the_object(uow, viewer, earlier)
    created = await do_the_work(uow, viewer, ...)
    if key is not None:
        await key.complete(uow, created.id)
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import strawberry

from app.domain.errors import FieldError, ValidationFailed
from app.domain.idempotency import service
from app.domain.idempotency.models import KEY_MAX_LENGTH, KEY_PATTERN
from app.domain.idempotency.repository import StoredAnswer
from app.domain.idempotency.service import Claim, KeyRequest, Replay
from app.domain.unit_of_work.work import UnitOfWork
from app.graphql.types import Info

ARGUMENT = "idempotencyKey"
_FORMAT = re.compile(KEY_PATTERN)
_ANSWER_TYPE = {"content-type": "text/plain"}  # the stored body is the created object's id

KeyArgument = strawberry.argument(
    name=ARGUMENT,
    description="Retry-safe: the same key with the same arguments answers what the first call created "
    "(1-255 visible ASCII characters; kept for the idempotency retention period).",
)


def _refused(message: str, rule: str) -> ValidationFailed:
    return ValidationFailed([FieldError((ARGUMENT,), message, rule)], detail=message)


def fingerprint(mutation: str, arguments: dict[str, Any]) -> str:
    """The call's identity: the mutation and its arguments (JSON compared canonically)."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"graphql:{mutation}:{canonical}".encode()).hexdigest()


@dataclass
class MutationKey:
    request: KeyRequest
    claimed: Claim | None = field(default=None)

    async def claim(self, uow: UnitOfWork) -> uuid.UUID | None:
        """Claim the key in the mutation's work; the id the first call created if this is a retry."""
        try:
            outcome = await service.claim(uow, self.request)
        except ValidationFailed as error:  # the same key with other arguments: say it of the argument
            raise _refused(
                "This key was already used for a different call.", "idempotency_key_reused"
            ) from error
        if isinstance(outcome, Replay):
            return uuid.UUID((outcome.stored.response_body or b"").decode())
        self.claimed = outcome
        return None

    async def complete(self, uow: UnitOfWork, created: uuid.UUID) -> None:
        """Store what the call created, with its work."""
        if self.claimed is None:
            raise RuntimeError("complete() needs a claimed key")
        answer = StoredAnswer(200, dict(_ANSWER_TYPE), str(created).encode())
        await service.complete(uow, self.claimed, answer)


def mutation_key(info: Info, key: str | None, mutation: str, **arguments: Any) -> MutationKey | None:
    """The call's key (None without one); a malformed key is refused before anything is claimed."""
    principal = info.context.principal
    if key is None or principal is None:  # an anonymous call never gets this far (field permissions)
        return None
    if len(key) > KEY_MAX_LENGTH or _FORMAT.fullmatch(key) is None:
        raise _refused("An idempotency key is 1-255 visible ASCII characters.", "idempotency_key_format")
    retention = timedelta(hours=info.context.settings.idempotency_retention_hours)
    request = KeyRequest(
        owner=principal.subject,
        key=key,
        client_id=principal.client_id,
        fingerprint=fingerprint(mutation, arguments),
        retention=retention,
    )
    return MutationKey(request)
