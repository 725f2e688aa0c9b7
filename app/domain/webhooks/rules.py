"""Pure delivery rules: when to try again, and when to give up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 12
    base_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=6)

    def give_up(self, attempts_made: int) -> bool:
        """Dead-letter after the last allowed attempt."""
        return attempts_made >= self.max_attempts

    def delay(self, attempts_made: int, rng: random.Random) -> timedelta:
        """Exponential backoff with "equal jitter": half the step fixed, half random.

        The fixed half keeps retries spread out; the random half stops many failed deliveries to one
        receiver from retrying in lockstep.
        """
        step = min(self.max_delay, self.base_delay * (2 ** max(0, attempts_made - 1)))
        half = step / 2
        return half + half * rng.random()


def is_success(status_code: int | None) -> bool:
    """Only a 2xx counts; redirects are not followed and count as failures."""
    return status_code is not None and 200 <= status_code < 300
