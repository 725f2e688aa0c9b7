"""Per-client rate limits: a token bucket per key (client id, or IP address when the client is unknown).

The buckets live in memory, so a limit holds **per worker process**: with N uvicorn workers (or N
replicas) a client can make up to N times the configured rate in total. That is the intended trade-off
for a stateless API (no shared store on the hot path); a gateway in front can enforce a global cap.

Used on the token endpoint (``rate_limit_token_per_minute``), on the login form (per username + IP)
and on every route a machine principal calls (``rate_limit_machine_per_minute``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.domain.errors import RateLimited

# Forget idle buckets when this many keys exist, so random keys (forged client ids) cannot grow memory.
MAX_KEYS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute, bursts up to ``per_minute``."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("a rate limit needs at least one request per minute")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def hit(self, key: str) -> None:
        """Take one token for ``key`` or raise RateLimited with the seconds until the next one."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            raise RateLimited(retry_after=max(1, math.ceil((1.0 - bucket.tokens) / self.rate)))
        bucket.tokens -= 1.0

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) < MAX_KEYS:
            return
        full_after = self.capacity / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]  # a full bucket is the same as no bucket
        if len(self._buckets) >= MAX_KEYS:  # still crowded: drop the oldest half
            for key, _ in sorted(self._buckets.items(), key=lambda kv: kv[1].updated)[: MAX_KEYS // 2]:
                del self._buckets[key]


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
        found = limiters[name] = RateLimiter(per_minute, clock=clock)
    return found


def limit_machine_client(state: Any, client_id: str) -> None:
    """Count one request of a machine client (REST and GraphQL both call this)."""
    per_minute = state.settings.rate_limit_machine_per_minute
    limiter(state, "machine", per_minute).hit(f"client:{client_id}")
