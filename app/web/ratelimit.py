"""Per-client rate limits: a token bucket per key (client id, or IP address when the client is unknown).

The buckets live in memory, so a limit holds **per worker process**: with N uvicorn workers (or N
replicas) a client can make up to N times the configured rate in total. That is the intended trade-off
for a stateless API (no shared store on the hot path); a gateway in front can enforce a global cap.

Used on the token endpoint (``rate_limit_token_per_minute``), on the login form (per username + IP)
and on every route a machine principal calls (``rate_limit_machine_per_minute``).

A client's own limit (``OAuthClient.rate_limit_per_minute``, set by an administrator) replaces both
defaults for its ``client:<id>`` buckets. Where it comes from, and why, is told at ``ClientLimits``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from app.domain.errors import RateLimited
from app.domain.identity.models import OAuthClient

log = logging.getLogger(__name__)

# Forget idle buckets when this many keys exist, so random keys (forged client ids) cannot grow memory.
MAX_KEYS = 10_000
CLIENT_KEY = "client:"  # buckets of a registered client: "client:<client_id>"
# How long an administrator's change of a client's limit may take to reach a worker process.
CLIENT_LIMITS_TTL_SECONDS = 30.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute, bursts up to ``per_minute``."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        limit_of: Callable[[str], int | None] | None = None,
    ) -> None:
        if per_minute < 1:
            raise ValueError("a rate limit needs at least one request per minute")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._limit_of = limit_of  # a key's own per-minute limit, when it has one
        self._buckets: dict[str, _Bucket] = {}

    def hit(self, key: str) -> None:
        """Take one token for ``key`` or raise RateLimited with the seconds until the next one."""
        now = self._clock()
        own = self._limit_of(key) if self._limit_of is not None else None
        capacity, rate = (float(own), own / 60.0) if own else (self.capacity, self.rate)
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            raise RateLimited(retry_after=max(1, math.ceil((1.0 - bucket.tokens) / rate)))
        bucket.tokens -= 1.0

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) < MAX_KEYS:
            return
        full_after = self.capacity / self.rate  # 60 s, whatever the limit: the same for every bucket
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]  # a full bucket is the same as no bucket
        if len(self._buckets) >= MAX_KEYS:  # still crowded: drop the oldest half
            for key, _ in sorted(self._buckets.items(), key=lambda kv: kv[1].updated)[: MAX_KEYS // 2]:
                del self._buckets[key]


class ClientLimits:
    """The per-client limits administrators set, as a map kept in each process (client_id -> limit).

    Why this way: the limit is looked up on every machine request, so it must not cost a database
    query per request; nor may access tokens carry it, since an administrator may change it while a
    token lives. Only clients with a limit of their own are in the map (a handful of rows), loaded in
    one statement and reloaded in the background once older than ``ttl`` seconds: a lookup is a dict
    read that never waits on the database, and a change reaches every worker within about ``ttl``.
    Until the first load completes, and while a reload fails (the last map is kept), the defaults and
    the last known limits apply: a short, bounded leniency rather than a stalled request path.
    """

    def __init__(
        self,
        load: Callable[[], Awaitable[dict[str, int]]],
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = CLIENT_LIMITS_TTL_SECONDS,
    ) -> None:
        self._load = load
        self._clock = clock
        self._ttl = ttl
        self._limits: dict[str, int] = {}
        self._loaded_at: float | None = None
        self._reload: asyncio.Task[None] | None = None

    def limit_of(self, key: str) -> int | None:
        """The own limit of the client a ``client:<id>`` key names (None: the default applies)."""
        if not key.startswith(CLIENT_KEY):
            return None
        self._reload_if_stale()
        return self._limits.get(key[len(CLIENT_KEY) :])

    def _reload_if_stale(self) -> None:
        if self._reload is not None:
            return
        if self._loaded_at is not None and self._clock() - self._loaded_at < self._ttl:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a synchronous caller): keep the current map
            return
        self._reload = loop.create_task(self._reload_in_background())

    async def _reload_in_background(self) -> None:
        try:
            await self.refresh()
        finally:
            self._reload = None

    async def refresh(self) -> None:
        """Load the map now (also at start-up, or in a test after changing a limit)."""
        started = self._clock()
        try:
            self._limits = await self._load()
        except Exception:  # the database may be down: keep serving with the last map, retry after ttl
            log.warning("could not reload the per-client rate limits; keeping the last ones", exc_info=True)
        self._loaded_at = started

    async def settled(self) -> None:
        """Wait for a reload in flight, if any (tests, shutdown)."""
        if self._reload is not None:
            await asyncio.shield(self._reload)


async def _load_client_limits(state: Any) -> dict[str, int]:
    """client_id -> rate_limit_per_minute of the clients that have one (one small query)."""
    query = select(OAuthClient.client_id, OAuthClient.rate_limit_per_minute).where(
        col(OAuthClient.rate_limit_per_minute).is_not(None)
    )
    async with state.db.sessionmaker() as session:
        return {client_id: int(limit) for client_id, limit in await session.execute(query) if limit}


def client_limits(state: Any) -> ClientLimits:
    """The process's map of per-client limits, kept on ``app.state`` (created on first use)."""
    found: ClientLimits | None = getattr(state, "client_limits", None)
    if found is None:
        clock = getattr(state, "rate_limit_clock", time.monotonic)
        found = state.client_limits = ClientLimits(lambda: _load_client_limits(state), clock=clock)
    return found


def limiter(state: Any, name: str, per_minute: int) -> RateLimiter:
    """The process's limiter called ``name``, kept on ``app.state`` (created on first use)."""
    limiters: dict[str, RateLimiter] | None = getattr(state, "rate_limiters", None)
    if limiters is None:
        limiters = {}
        state.rate_limiters = limiters
    found = limiters.get(name)
    if found is None:
        # Tests may set ``state.rate_limit_clock`` to stop time; production uses the monotonic clock.
        clock = getattr(state, "rate_limit_clock", time.monotonic)
        own = client_limits(state).limit_of if hasattr(state, "db") else None  # "client:" keys only
        found = limiters[name] = RateLimiter(per_minute, clock=clock, limit_of=own)
    return found


def limit_machine_client(state: Any, client_id: str) -> None:
    """Count one request of a machine client (REST and GraphQL both call this)."""
    per_minute = state.settings.rate_limit_machine_per_minute
    limiter(state, "machine", per_minute).hit(f"client:{client_id}")
