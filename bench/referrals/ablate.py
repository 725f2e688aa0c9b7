"""CPU per request in process, for the partner POST and for stripped-down routes next to it.

    .venv/bin/python -m bench.referrals.ablate [--requests 3000] [--stack wijkwerk|whatif] [--calls]

Drives the real app (production settings, the benchmark database) with raw ASGI calls, 16 at a
time on uvloop, and divides the process's CPU time by the number of requests. Next to
``POST /api/v1/referrals`` it mounts (first in the route list, so routing costs little) POST routes
that validate the same body and return nothing, each adding one step of the real route:

* ``/bench/body``: the body only; ``/bench/auth``: + the token and scope; ``/bench/session``: + the
  unit of work (no statement); ``/bench/statement``: + one ``SELECT 1`` in the session's transaction;
  ``/bench/alone``: the unit of work's one raw ``SELECT 1`` on its own instead (no transaction, no
  ORM session: how the partner POST sends its statement since stop 24); ``/bench/idempotent``: +
  ``Idempotent`` (claim and stored answer: two statements).

The differences show what each step costs at 16 concurrent requests. An experiment, not the app.
``--calls`` also counts the Python function calls per request (cProfile over a second batch, the
client's raw ASGI calls included): unlike CPU time, that count does not move with the machine's load.
``--profile FILE`` writes that batch's cProfile statistics of the last path to FILE (pstats).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import uvloop
from fastapi import APIRouter, FastAPI

from app.api.auth import ReferralWriter as Writer
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.db import RawStatement
from app.domain.referrals.schemas import InboundReferralCreate as Body
from bench.referrals import data

PATH = "/api/v1/referrals"
STEPS = [
    "/bench/body",
    "/bench/auth",
    "/bench/session",
    "/bench/statement",
    "/bench/alone",
    "/bench/idempotent",
]
SELECT_ONE = RawStatement.of(sa.text("SELECT 1"))


def _steps() -> APIRouter:
    router = APIRouter(route_class=IdempotentRoute)

    @router.post(STEPS[0])
    async def body_only(body: Body) -> None: ...

    @router.post(STEPS[1])
    async def auth(principal: Writer, body: Body) -> None: ...

    @router.post(STEPS[2])
    async def session(uow: UoW, principal: Writer, body: Body) -> None:
        assert uow.session is not None  # the unit of work opens its session (no statement yet)

    @router.post(STEPS[3])
    async def statement(uow: UoW, principal: Writer, body: Body) -> None:
        await uow.session.execute(sa.text("SELECT 1"))

    @router.post(STEPS[4])
    async def alone(uow: UoW, principal: Writer, body: Body) -> None:
        await uow.fetch_one(SELECT_ONE, {})

    @router.post(STEPS[5])
    async def idempotent(uow: UoW, principal: Writer, body: Body, _: Idempotent) -> None: ...

    return router


def build(stack: str, url: str) -> FastAPI:
    os.environ.update(data.environment(url))
    if stack == "whatif":
        os.environ["WIJKWERK_DB_POOL_SIZE"] = "16"
    from app.asgi import create as shipped
    from bench.referrals.whatif import create as whatif

    app = (whatif if stack == "whatif" else shipped)()
    steps = _steps()
    routes = app.router.routes
    before = list(routes)
    app.include_router(steps)
    routes[:] = [r for r in routes if r not in before] + before
    return app


async def _call(app: FastAPI, path: str, token: str, n: int, prefix: str) -> int:
    body = json.dumps(data.referral_body(data.BUURTEN[n % len(data.BUURTEN)], str(n))).encode()
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"authorization", b"Bearer " + token.encode()),
        (b"idempotency-key", f"{prefix}-{n}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def _drive(app: FastAPI, path: str, tokens: list[str], requests: int, prefix: str) -> int:
    numbers, failed = iter(range(requests)), 0

    async def worker() -> None:
        nonlocal failed
        for n in numbers:
            if await _call(app, path, tokens[n % len(tokens)], n, prefix) >= 300:
                failed += 1

    await asyncio.gather(*(worker() for _ in range(16)))
    return failed


async def _calls(app: FastAPI, path: str, tokens: list[str], requests: int, prefix: str) -> cProfile.Profile:
    """A deterministic profile of ``requests`` more requests (function calls do not depend on load)."""
    profiler = cProfile.Profile()
    profiler.enable()
    await _drive(app, path, tokens, requests, prefix)
    profiler.disable()
    return profiler


@dataclass(frozen=True)
class Options:
    requests: int
    calls: bool = False
    profile: str | None = None


async def measure(
    app: FastAPI, paths: list[str], tokens: list[str], options: Options, out: Callable[[str], None]
) -> None:
    requests = options.requests
    async with app.router.lifespan_context(app):
        for path in paths:
            prefix = f"ablate-{time.time_ns()}"
            await _drive(app, path, tokens, 300, prefix + "-warm")
            started = time.process_time()
            failed = await _drive(app, path, tokens, requests, prefix)
            spent = 1000 * (time.process_time() - started) / requests
            line = f"{path}: {spent:.2f} ms CPU/request ({failed} failed, load {os.getloadavg()[0]:.1f})"
            if options.calls or options.profile:
                profiler = await _calls(app, path, tokens, 500, prefix + "-calls")
                calls = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
                line += f", {calls / 500:.0f} function calls/request"
                if options.profile:
                    profiler.dump_stats(options.profile)
            out(line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--stack", default="wijkwerk", choices=["wijkwerk", "whatif"])
    parser.add_argument("--paths", nargs="+", default=[*STEPS, PATH])
    parser.add_argument("--calls", action="store_true", help="count function calls per request")
    parser.add_argument("--profile", help="write the last path's cProfile statistics to this file")
    options = parser.parse_args()
    db = data.start()
    asyncio.run(data.prepare(db))
    tokens = asyncio.run(data.partner_tokens(db.url))
    app = build(options.stack, db.url)
    chosen = Options(options.requests, options.calls, options.profile)
    uvloop.run(measure(app, options.paths, tokens, chosen, lambda line: print(line, flush=True)))


if __name__ == "__main__":
    main()
