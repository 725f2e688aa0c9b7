"""``Idempotency-Key`` on POSTs: a retried request gets the first answer instead of acting twice.

Apply it to a route in two steps — the router's route class, and one parameter on the POST::

    from app.api.idempotency import Idempotent, IdempotentRoute

    router = APIRouter(route_class=IdempotentRoute, ...)

    @router.post("/households/{household_id}/things", status_code=201)
    async def create_thing(
        uow: UoW,
        principal: CaseWriter,
        body: ThingCreate,
        _: Idempotent,  # after the principal, so the scope check runs first
    ) -> ThingRead: ...

The header is optional; without it the route behaves as usual. With it (1-255 visible ASCII
characters), per caller (token subject):

* the key is claimed before the work, in the request's own transaction: a transaction-scoped advisory
  lock on the key plus ``INSERT ... ON CONFLICT`` in one statement, so a concurrent duplicate sees
  it at once (it cannot take the lock) and gets 409 ``idempotency_key_in_flight`` without waiting;
* when the route succeeds, its status, body and the ETag/Location/Content-Type headers are stored in
  the request's own transaction — the answer and the work it describes commit together;
* a retry with the same method, path and body replays that answer (header ``Idempotent-Replayed:
  true``) and writes an access-log row (action ``read``, purpose ``idempotent_replay``) for the
  resource the first request logged; a different request with the same key is 422
  ``idempotency_key_reused``;
* when the route fails (any error), the claim rolls back with the rest: nothing was written, the key
  may be reused;
* a claim whose request died is taken over by an identical retry after ``IN_FLIGHT_LEASE``; keys
  expire after ``settings.idempotency_retention_hours`` (default 24) and are purged by the purge job
  (``app.domain.idempotency.repository.purge_expired``).

A hot POST whose answer is known before its work is written may instead claim the key in its own
statement, together with the answer (one statement instead of claim, work and store): take
``key: IdempotencyKeyRequest`` (a ``KeyRequest``, not yet claimed) instead of ``Idempotent``; the
domain prepares what it will write, the route makes the ``Answer`` of it and hands it to the domain
as data (``Answer.to_store``), the domain's statement claims the key with it (``claim_ctes``) and
settles a key it did not win (``service.settle``). The route raises ``replayed(...)`` for a replay,
answers with ``Answer.response`` and, when the domain answered with something made before, stores
that answer with ``complete_claimed``. The rules above stay the same (see ``POST /api/v1/referrals``).

Do not use it on POSTs whose answer must not be stored (searches, answers revealing a BSN): stored
answers are kept for the retention period.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request, Response

from app.domain.idempotency import service
from app.domain.idempotency.models import KEY_MAX_LENGTH, KEY_PATTERN
from app.domain.idempotency.repository import StoredAnswer, StoredKey
from app.domain.idempotency.service import Claim, KeyRequest, Replay
from app.domain.unit_of_work.access_log import AccessAction, AccessEntry
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.web.principal import request_caller
from app.web.unit_of_work import Handler, WorkRoute, current_unit_of_work

REPLAYED_HEADER = "Idempotent-Replayed"
_STORED_HEADERS = ("content-type", "etag", "location")
# Where a claimed key waits for the route's answer: in the request's ASGI scope, not in
# ``request.state``, which a sub-request copies from its parent (``app.web.subrequest``).
_CLAIM_KEY = "wijkwerk.idempotency_claim"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as an Idempotency-Key keeps it: the status, the headers worth replaying
    (``Content-Type``, ``ETag``, ``Location``) and the body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, response: Response) -> Answer:
        """The answer of a route's finished response (it must be complete, not streaming)."""
        if not hasattr(response, "body"):
            raise RuntimeError("an idempotent route must return a complete (non-streaming) response")
        headers = {k: v for k, v in response.headers.items() if k.lower() in _STORED_HEADERS}
        return cls(response.status_code, headers, bytes(response.body))

    @classmethod
    def stored_in(cls, stored: StoredKey) -> Answer:
        return cls(stored.response_status or 200, stored.response_headers or {}, stored.response_body or b"")

    def to_store(self, touched: AccessEntry | None = None) -> StoredAnswer:
        """The answer as its key stores it, with what the request ``touched`` (the entry it logged
        first), so that a replay is logged as a read of the same thing."""
        return StoredAnswer(
            self.status,
            self.headers,
            self.body,
            resource=touched.resource if touched else None,
            household_id=touched.household_id if touched else None,
            resource_id=touched.resource_id if touched else None,
        )

    def response(self, *, replay: bool = False) -> Response:
        """The response; ``replay`` marks it as the replay of a stored answer."""
        headers = dict(self.headers)
        media_type = headers.pop("content-type", None)
        if replay:
            headers[REPLAYED_HEADER] = "true"
        return Response(content=self.body, status_code=self.status, headers=headers, media_type=media_type)


class IdempotentReplay(Exception):
    """Raised by the dependency to skip the route; ``IdempotentRoute`` turns it into the stored answer."""

    def __init__(self, stored: StoredKey) -> None:
        super().__init__("idempotent replay")
        self.stored = stored

    def response(self) -> Response:
        return Answer.stored_in(self.stored).response(replay=True)


class IdempotentRoute(WorkRoute):
    """Route class that answers replays and stores the finished answer of a claimed key, inside the
    request's unit of work (``WorkRoute.within_work``): the answer and the work it describes commit
    together, and a failing route never reaches the store (the claim rolls back with it)."""

    def within_work(self, handler: Handler) -> Handler:
        async def idempotent_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except IdempotentReplay as replay:
                return replay.response()
            claim = request.scope.get(_CLAIM_KEY)
            if isinstance(claim, Claim):
                await _store(current_unit_of_work(request), claim, response)
            return response

        return idempotent_handler


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request's identity: method, path and body (JSON compared canonically, not byte for byte)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _path(request: Request) -> str:
    """``request.url.path`` without building the whole URL (same escaping as Starlette's URL)."""
    path: str = request.scope["path"]
    return path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def _retention(request: Request) -> timedelta:
    return timedelta(hours=request.app.state.settings.idempotency_retention_hours)


def _first_entry(uow: UnitOfWork) -> AccessEntry | None:
    """What the request touched: the entry it logged first (its access check)."""
    return uow.entries[0] if uow.entries else None


def _log_replay(uow: UnitOfWork, principal: Principal, stored: StoredKey) -> None:
    if stored.resource is None:
        return
    uow.log(
        principal,
        resource=stored.resource,
        action=AccessAction.read,
        purpose="idempotent_replay",
        household_id=stored.household_id,
        resource_id=stored.resource_id,
    )


async def _store(uow: UnitOfWork, claim: Claim, response: Response) -> None:
    await service.complete(uow, claim, Answer.of(response).to_store(_first_entry(uow)))


KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=KEY_PATTERN,
        description="Retry-safe POST: the same key and body replay the first answer "
        "(422 for another body, 409 while the first is still running).",
        examples=["5f0c1d2e-7a1b-4c2d-9e3f-0a1b2c3d4e5f"],
    ),
]


def _idempotent_route(request: Request) -> None:
    if not isinstance(request.scope.get("route"), IdempotentRoute):
        raise RuntimeError("Idempotent needs a router with route_class=IdempotentRoute")


async def _key_request(request: Request, key: KeyHeader = None) -> KeyRequest | None:
    """The request's key, not claimed yet (None without the header).

    One dependency node with the header as its only parameter: the caller is the one the route's
    own caller dependency verified (``request_caller``: the route declares its caller first, so the
    scope check has run), not a dependency of its own. FastAPI solves every node of a route's tree
    on every request, so each node saved is saved on every keyed POST."""
    _idempotent_route(request)
    if key is None:
        return None
    principal = await request_caller(request)
    return KeyRequest(
        owner=principal.subject,
        key=key,
        client_id=principal.client_id,
        fingerprint=fingerprint(request.method, _path(request), await request.body()),
        retention=_retention(request),
    )


async def _idempotency(request: Request, key: KeyHeader = None) -> None:
    """Claim the request's key (when it sends one) in the request's unit of work, or raise the replay
    of its stored answer; ``IdempotentRoute`` stores the answer once the route made it.

    A plain function of one node, not a dependency with ``yield`` beneath its own ``UoW``: FastAPI
    solves every node of a route's tree on every request and enters a context for each ``yield``;
    the unit of work is the one the route's ``UoW`` made (the route declares it first,
    tests/contract/test_unit_of_work_order.py), the store is the route class's."""
    uow = current_unit_of_work(request)  # first: a route without its ``UoW`` fails on every request
    request_key = await _key_request(request, key)
    if request_key is None:
        return
    # The claim lives in the request's own transaction: it commits with the work and the stored
    # answer, and a failure anywhere rolls it back (nothing to release).
    outcome = await service.claim(uow, request_key)
    if isinstance(outcome, Replay):
        raise replayed(uow, await request_caller(request), outcome)
    request.scope[_CLAIM_KEY] = outcome


Idempotent = Annotated[None, Depends(_idempotency)]

# The key for a route whose own statement claims it together with the stored answer (see above).
IdempotencyKeyRequest = Annotated[KeyRequest | None, Depends(_key_request)]


def replayed(uow: UnitOfWork, principal: Principal, replay: Replay) -> IdempotentReplay:
    """What to raise for a replay (the route class answers it), after logging it."""
    _log_replay(uow, principal, replay.stored)
    return IdempotentReplay(replay.stored)


async def complete_claimed(uow: UnitOfWork, key: KeyRequest, answer: Answer) -> None:
    """Store ``answer`` for a key the route's statement claimed without its final answer (the domain
    answered with something made before: ``key.claim`` is held, not ``answered``)."""
    if key.claim is None or key.answered:
        raise RuntimeError("complete_claimed needs a key claimed without its answer")
    await service.complete(uow, key.claim, answer.to_store(_first_entry(uow)))
