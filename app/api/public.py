"""Routes that need no token. Everything else must declare its scopes (a test walks every route).

Add a route here only when anonymous callers are meant to reach it, with a comment saying why.
"""

from __future__ import annotations

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),  # liveness probe
        ("GET", "/readyz"),  # readiness probe: says only ok/unavailable
    }
)
