"""create_app(): routers, /graphql, error handlers, middleware and the lifespan that owns the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import health, hsds, oauth, v1
from app.api.docs import mount_docs
from app.api.openapi import API_VERSION, finish_openapi, publish_openapi
from app.api.problems import DEFAULT_PROBLEM_RESPONSES, install_problem_handlers, problem_response
from app.api.strict import StrictRequest
from app.bootstrap import checked_settings, token_verifier, wiring
from app.db import Database
from app.domain.identity.passwords import SecretHasher
from app.domain.webhooks.health import queue_health
from app.graphql import mount_graphql
from app.pages.wijk import wijk_pages
from app.settings import Settings, get_settings
from app.web.cursors import Cursors
from app.web.head import HeadAsGet
from app.web.headers import answer_headers
from app.web.observability import configure_logging, install_observability, observed
from app.web.routing import route_by_path

API_DESCRIPTION = """
Wijkwerk is the open API of Dutch *sociale wijkteams*: households and their plans, referrals with
partner organisations, informal support networks, resident initiatives and neighbourhood figures.

Every error is `application/problem+json` (RFC 9457). Tokens come from `/oauth/token`; each route
lists the OAuth scopes it needs. Objects you may not see answer exactly like missing ones (404).
Every response carries an `X-Request-ID` header (send your own, 8-64 letters, digits and dashes, to
correlate); quote it when reporting a problem.
"""

# Request bodies are small JSON documents; anything larger is refused with 413 before it is parsed.
MAX_BODY_BYTES = 1024 * 1024


class WijkwerkAPI(FastAPI):
    """FastAPI with the observability middleware, which also adds the every-answer headers, outside
    Starlette's error middleware, so even an unexpected 500 carries its request id and API version,
    is counted and gets an access line.

    FastAPI's native OpenTelemetry is off: the service's metrics, logs and request ids are its own
    (app.web.observability), and FastAPI's would ask the global providers whether to trace, on every
    request."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options, telemetry={"tracing": False, "metrics": False, "logs": False})

    def build_middleware_stack(self) -> ASGIApp:
        # FastAPI's own stack, whole: leaving out its two pass-through layers here (telemetry off, no
        # app-wide body limit) saved 6 of ~1,000 function calls per request (bench.casefile.cpu
        # --calls), not worth a copy of the framework's layer order to keep in step with its releases.
        return observed(self, HeadAsGet(super().build_middleware_stack()), answer_headers(API_VERSION))


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413 problem+json: at once when Content-Length
    says so, or as soon as a streamed body grows past it (before it is parsed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise StarletteHTTPException(413, self.detail)  # answered by the problem handlers
            return message

        await self.app(scope, limited, send)

    @property
    def detail(self) -> str:
        return f"Request bodies are limited to {self.max_bytes} bytes."

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(Request(scope), 413, "content_too_large", self.detail)
        await response(scope, receive, send)


def _content_length(scope: Scope) -> str:
    """The first Content-Length header, as Starlette's ``Headers(scope=scope).get`` finds it (names
    come lower-case from the server), without making the ``Headers`` object on every request."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return str(value.decode("latin-1"))
    return ""


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> FastAPI:
    settings = checked_settings(settings or get_settings())
    url = database_url or settings.database_url
    if url is None:
        raise RuntimeError("No database: set DATABASE_URL or start through `wijkwerk serve`.")
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            url,
            settings,
            read_urls=settings.read_database_url,
            on_read_fallback=app.state.metrics.read_fallback,
        )
        app.state.db = db
        app.state.cursors = Cursors(settings.secret("secret_key"))
        app.state.token_verifier = token_verifier(settings, db)
        try:
            yield
        finally:
            await db.dispose()

    app = WijkwerkAPI(
        title="Wijkwerk API",
        version=API_VERSION,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        # Served by publish_openapi and mount_docs below (CORS on the contract, Swagger UI's files
        # from a package instead of a CDN).
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # A URI never ends in a slash, and one that does answers 404, not a redirect (NL GOV API
        # Design Rules /core/no-trailing-slash).
        redirect_slashes=False,
        responses=DEFAULT_PROBLEM_RESPONSES,
    )
    app.state.settings = settings
    app.state.wiring = wiring()
    app.state.secret_hasher = SecretHasher.for_settings(settings)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    install_observability(app, webhook_queue_health=queue_health, dependencies=[StrictRequest])
    mount_graphql(app, settings)
    for router in v1.ROUTERS:
        app.include_router(router, prefix=v1.PREFIX)
    # Routes without a caller refuse undeclared input through this dependency; the others in their
    # caller dependency, after the token and scope checks (app.api.strict).
    app.include_router(health.router, dependencies=[StrictRequest])
    app.include_router(hsds.router)  # the sociale kaart for HSDS tools (a token is optional)
    # Not strict: RFC 6749 §3.1 has an authorization server ignore parameters it does not know.
    app.include_router(oauth.router)
    app.mount("/wijk", wijk_pages(), name="wijk")  # the public neighbourhood pages (docs/wijk.md)
    # In production the contract names the service's https address (the issuer); elsewhere its
    # server URLs are relative to where it is served, so the committed contract fits every run.
    public_url = settings.issuer if settings.is_production else None
    finish_openapi(app, public_url=public_url)
    publish_openapi(app)
    if not settings.is_production:
        mount_docs(app, openapi_url="/openapi.json")
    # Last: a request is matched only against the routes whose paths could take it, in this order.
    route_by_path(app)
    return app
