"""Proposed changes outside the case file, measured before anyone makes them: the app with patches.

    uvicorn --factory bench.casefile.variants:create   (BENCH_PATCHES=noping,tokencache,routes)

* ``noping``: the engine without ``pool_pre_ping`` (SQLAlchemy's asyncpg ping is BEGIN; ";"; ROLLBACK:
  three round trips on every checkout). Proposal for ``app/db.py``.
* ``tokencache``: verified tokens kept until they expire (a bounded dict keyed by the token), so the
  ES256 signature and the claims are checked once per token, not once per request. Proposal for
  ``app/domain/identity/tokens.py`` (``TokenVerifier.verify``).
* ``routes``: the case-file routers matched before the others (FastAPI tries routes in order; the
  household overview is behind ~100 routes). Proposal for ``app/api/v1/__init__.py``.

Only for the benchmark: the served app is never patched. Since 2026-11-22 the app does all three
itself (a verified-token cache, a ping only after 10 s idle, hot routers first), so these variants now
measure little beyond noise; they stay for comparing against older trees.
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import FastAPI

from app.security.principal import Principal
from app.settings import get_settings

PATCHES = {p for p in os.environ.get("BENCH_PATCHES", "").split(",") if p}


def _no_ping() -> None:
    import app.db as db

    original = db.Database.__init__

    def init(self: Any, url: str, settings: Any, **options: Any) -> None:
        original(self, url, settings, **{"pool_pre_ping": False, **options})

    db.Database.__init__ = init  # type: ignore[method-assign]


def _token_cache() -> None:
    from app.domain.identity.tokens import TokenVerifier

    verify = TokenVerifier.verify
    cache: dict[str, tuple[float, Principal]] = {}

    async def cached(self: TokenVerifier, token: str) -> Principal:
        hit = cache.get(token)
        if hit is not None and hit[0] > time.time():
            return hit[1]
        principal = await verify(self, token)
        claims_exp = _expiry(token)
        if len(cache) > 10_000:
            cache.clear()
        cache[token] = (claims_exp, principal)
        return principal

    TokenVerifier.verify = cached  # type: ignore[method-assign]


def _expiry(token: str) -> float:
    import base64
    import json

    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


def _routes_first() -> None:
    """Include the case-file routers first in /api/v1 (the same routes, matched sooner)."""
    from app.api.v1 import api_router, households_routes, overview

    hot = {id(households_routes.router), id(overview.router)}
    routes = api_router.routes
    first = [r for r in routes if id(getattr(r, "original_router", None)) in hot]
    api_router.routes[:] = first + [r for r in routes if r not in first]
    api_router._mark_routes_changed()  # type: ignore[attr-defined]


def apply(patches: set[str] | list[str]) -> None:
    """Patch this process before the app is made (``bench.casefile.cpu --variant`` too)."""
    if "noping" in patches:
        _no_ping()
    if "tokencache" in patches:
        _token_cache()
    if "routes" in patches:
        _routes_first()


def create() -> FastAPI:
    apply(PATCHES)
    from app.main import create_app

    get_settings.cache_clear()
    return create_app(get_settings())
