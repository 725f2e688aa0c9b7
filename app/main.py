"""create_app(): routers, /graphql, error handlers, middleware and the lifespan that owns the engine."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

from app.api import health
from app.api.problems import install_problem_handlers
from app.api.v1 import api_router
from app.auth import server as oauth_server
from app.auth.keys import KeyRing
from app.auth.tokens import TokenVerifier
from app.db import Database
from app.graphql import mount_graphql
from app.observability import install_observability
from app.settings import Settings, get_settings

API_DESCRIPTION = """
Wijkwerk is the open API of Dutch *sociale wijkteams*: households and their plans, referrals with
partner organisations, informal support networks, resident initiatives and neighbourhood figures.

Every error is `application/problem+json` (RFC 9457). Tokens come from `/oauth/token`; each route
lists the OAuth scopes it needs. Objects you may not see answer exactly like missing ones (404).
"""


def _request_id(request: Request) -> str:
    incoming = request.headers.get("x-request-id", "")
    # Accept a caller's id only when it looks like one (no free text flows into our logs).
    if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum():
        return incoming
    return uuid.uuid4().hex


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    url = database_url or settings.database_url
    if url is None:
        raise RuntimeError("No database: set DATABASE_URL or start through `wijkwerk serve`.")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(url, settings)
        app.state.db = db

        async def load_keyring() -> KeyRing:
            async with db.transaction() as session:
                return await KeyRing.load(session, settings.signing_alg, settings.secret("secret_key"))

        app.state.token_verifier = TokenVerifier(settings, load_keyring)
        try:
            yield
        finally:
            await db.dispose()

    app = FastAPI(
        title="Wijkwerk API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None if settings.is_production else "/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    install_problem_handlers(app)

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
        request.state.request_id = _request_id(request)
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    install_observability(app)
    app.include_router(health.router)
    app.include_router(oauth_server.router)
    app.include_router(api_router)
    mount_graphql(app, settings)
    return app
