"""What if (an experiment, NOT the shipped code): the app with three knobs outside the referral code
turned, to show what they are worth next to the shipped stack in the same run.

    uvicorn --factory bench.referrals.whatif:create   (with the benchmark's environment)

* no ``pool_pre_ping`` (``app/db.py``): every checkout otherwise costs a round trip;
* verified access tokens remembered per token string until shortly before they expire
  (``app/domain/identity/tokens.py``): the ES256 signature check otherwise runs on every request;
* a pool as large as the concurrency (``WIJKWERK_DB_POOL_SIZE=16``, set by run.py), so no overflow
  connection is opened and closed again under load;
* the referrals router included first (``app/api/v1/__init__.py``): FastAPI tries the routes in
  order, and POST /api/v1/referrals otherwise comes after ~170 others (186 route matches per
  request instead of 14).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI

import app.domain.identity.tokens as tokens
import app.main as main
from app.asgi import create as create_shipped
from app.db import Database
from app.security.principal import Principal

_REMEMBER = 60.0  # seconds; the benchmark's tokens live an hour


class _NoPrePing(Database):
    def __init__(self, url: str, settings: Any, **options: Any) -> None:
        options.setdefault("pool_pre_ping", False)
        super().__init__(url, settings, **options)


def _remembering(verify: Any) -> Any:
    known: dict[str, tuple[Principal, float]] = {}

    async def remembered(self: tokens.TokenVerifier, token: str) -> Principal:
        found = known.get(token)
        if found is not None and found[1] > time.monotonic():
            return found[0]
        principal: Principal = await verify(self, token)
        known[token] = (principal, time.monotonic() + _REMEMBER)
        return principal

    return remembered


def _referrals_first() -> None:
    from app.api import v1
    from app.api.v1 import referrals

    v1.ROUTERS = (referrals.router, *(r for r in v1.ROUTERS if r is not referrals.router))


def create() -> FastAPI:
    _referrals_first()
    main.Database = _NoPrePing  # type: ignore[misc]
    tokens.TokenVerifier.verify = _remembering(tokens.TokenVerifier.verify)  # type: ignore[method-assign]
    return create_shipped()
