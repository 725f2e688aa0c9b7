"""HTTP caching of anonymous reads: public answers with a strong ETag, kept per process.

Used by anonymous GraphQL GETs (``app.graphql``) and, through the route class
``KeptAnonymousAnswers``, anonymous directory searches (``app.api.v1.directory``) and the HSDS read
API (``app.api.hsds``): an anonymous read is the same for every anonymous caller, so its answer
carries ``Cache-Control: public, max-age=<max_age>``, a strong ``ETag`` (the SHA-256 of the exact
bytes) and ``Vary: Authorization`` (a shared cache must not hand it to a signed-in caller, whose
answer differs); ``If-None-Match`` naming that tag answers 304 without a body. Everything else (a
POST, any signed-in caller, an answer with errors or another status) keeps the app-wide
``Cache-Control: no-store``: an answer that depends on the caller is never ``public``. Each user
decides what is anonymous and what the answer depends on (the key).

The server keeps the answers too (``AnswerCache``, per process, least recently used out), each with
the version of the public data it was computed at (``app.domain.unit_of_work.public_data``: raised
in PostgreSQL by every transaction that writes public data). Each request reads that version (one
small statement) before anything else: a kept answer is served only while the version is unchanged,
so a new initiative, grant or directory entry shows on the next request that reads it in every
process, not after the max-age.

Why the version is read first, and where. The answer is kept under the version read before it is
computed, so what must hold is: the data the answer was computed from is at least as new as that
version. Both are read through the same read path (``Database.read_one`` / ``reading()``: a
streaming replica when one is configured and usable, else the primary), the version first:
- on the primary, the later reads see every commit the earlier version read saw;
- on a replica, replay is in commit order and never goes back, so a read made after the version read
  sees at least the WAL position that read saw, and the version it read counts every public write
  up to that position.
So an answer is never kept under a version newer than its data; a write landing between the two
reads only makes the answer newer than its version, which costs one recomputation next time. Read
from the primary while the page came from a lagging replica (as before), the version could be newer
than the page, and the replica's old page would be kept, and served after the replica caught up,
under the new version until ``lifetime`` ran out. Read on the replica, a lagging replica serves the
answer of its own version (what an uncached read there would answer too), and its next version, once
replayed, brings the next answer.
What this does not cover: the two reads must reach the same server. Several replicas in rotation, or
the routing switching from the primary to a replica between the two reads (a check finding the
replica usable again in that moment), can pair a newer version with an older page (with one
replica, GraphQL's loaders, each on a read session of its own, all reach that replica). Kept
answers therefore also expire after ``lifetime`` seconds, which also bounds what no counter sees
(the date in "this year's figures").
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from app.db import Database
from app.domain.unit_of_work.public_data import current_version
from app.web.principal import sends_credentials
from app.web.unit_of_work import WorkRoute


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    media_type: str
    etag: str
    version: int
    kept_at: float

    @classmethod
    def of(cls, response: Response, version: int, now: float) -> Answer:
        body = bytes(response.body)
        etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        return cls(body, response.media_type or "application/json", etag, version, now)


# What the kept answers of one process may weigh at most (a dashboard answer is ~90 kB): URLs with
# ever new variables must not grow the process without bound.
MAX_BYTES = 32 * 1024 * 1024


class AnswerCache:
    """Anonymous answers by key (by default the URL's query string), valid while the public data's
    version holds: at most ``entries`` of them (0: none kept, still public with an ETag), each for at
    most ``lifetime`` seconds; browsers and CDNs may keep them ``max_age`` seconds."""

    def __init__(
        self, *, entries: int, lifetime: float, max_age: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = entries
        self.lifetime = lifetime
        self.cache_control = f"public, max-age={max_age}"
        self._clock = clock
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._bytes = 0

    async def answer(
        self,
        request: Request,
        db: Database,
        compute: Callable[[], Awaitable[tuple[Response, bool]]],
        key: str | None = None,
    ) -> Response:
        """The answer to an anonymous read: kept, or ``compute()``d (the response, and whether the
        result had errors) and kept when it has none. ``key`` names everything the answer depends on
        besides the public data (by default the URL's query string)."""
        key = request.url.query if key is None else key
        version = await current_version(db) if self.max_entries else 0
        kept = self._kept(key, version)
        if kept is None:
            response, errors = await compute()
            if response.status_code != 200 or errors:
                return response  # not public: the app-wide no-store stays
            kept = Answer.of(response, version, self._clock())
            self._keep(key, kept)
        return self._public(kept, request.headers.get("if-none-match"))

    def _kept(self, key: str, version: int) -> Answer | None:
        kept = self._answers.get(key)
        if kept is None or kept.version != version or self._clock() - kept.kept_at > self.lifetime:
            return None
        self._answers.move_to_end(key)
        return kept

    def _keep(self, key: str, answer: Answer) -> None:
        if not self.max_entries or len(answer.body) > MAX_BYTES:
            return
        replaced = self._answers.pop(key, None)
        self._bytes += len(answer.body) - (len(replaced.body) if replaced is not None else 0)
        self._answers[key] = answer
        while len(self._answers) > self.max_entries or self._bytes > MAX_BYTES:
            _, evicted = self._answers.popitem(last=False)
            self._bytes -= len(evicted.body)

    def _public(self, answer: Answer, if_none_match: str | None) -> Response:
        headers = {"Cache-Control": self.cache_control, "ETag": answer.etag, "Vary": "Authorization"}
        if if_none_match is not None and _matches(if_none_match, answer.etag):
            return Response(status_code=304, headers=headers)
        return Response(answer.body, media_type=answer.media_type, headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag, compared weakly (a ``W/`` prefix is ignored)."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


class KeptAnonymousAnswers(WorkRoute):
    """A route class whose anonymous answers (requests that send no credentials,
    ``app.web.principal.sends_credentials``: the same answer for every such caller) go through an
    ``AnswerCache`` before FastAPI parses the route's parameters and solves its dependencies: a kept
    answer is only ever one whose very path and query string were answered 200 before, so it costs
    one version read and a lookup. A signed-in caller's request is answered as usual (``no-store``).

    A subclass names the cache (``answers``) and, in ``key``, what else an answer depends on or that
    a request's answer is not to be kept at all (None). The default key is the path and query string,
    so two routes sharing one cache never get each other's answers. A work route: a computed answer's
    unit of work has ended (committed) before the answer is kept."""

    def answers(self, request: Request) -> AnswerCache:
        raise NotImplementedError

    async def key(self, request: Request) -> str | None:
        return f"{request.url.path}?{request.url.query}"

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            answers = self.answers(request)
            # Only reads are kept: any other method runs every time, whoever sends it.
            if request.method not in ("GET", "HEAD"):
                return await handler(request)
            if not answers.max_entries or sends_credentials(request):
                return await handler(request)
            key = await self.key(request)
            if key is None:
                return await handler(request)

            async def computed() -> tuple[Response, bool]:
                return await handler(request), False

            return await answers.answer(request, request.app.state.db, computed, key)

        return route
