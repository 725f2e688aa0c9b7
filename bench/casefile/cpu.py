"""CPU time per request in process, for the app and the floor: a number that does not depend on load.

    .venv/bin/python -m bench.casefile.cpu [overview list contact sync] [--requests 2000] [--no-floor]
        [--calls]

Drives each ASGI app directly (no HTTP server, no HTTP client: a minimal ASGI call on uvloop), one
request after another, and divides this process's CPU time (``time.process_time``: Python, the driver
and the event loop; PostgreSQL's own work is not in it) by the number of requests. The server's HTTP
parsing (httptools) is not in it either, for both stacks alike. Under load the app's throughput is
bounded by roughly 1 / (this CPU time + uvicorn's share), so the ratio app / floor is the first thing
to look at. ``--calls`` adds Python function calls per request (cProfile's count over 200 requests):
a number that does not move with the machine's load at all, for comparing two trees on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvloop

from app.main import create_app
from bench.casefile import fixtures
from bench.casefile.scenarios import NAMES, Request, requests_for


async def call(app: Any, request: Request) -> tuple[int, bytes]:
    """One request through an ASGI app: (status, body)."""
    method, target, headers, body = request
    url = urlsplit(target)
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    payload = (body or "").encode()
    if body is not None:
        raw_headers.append((b"content-length", str(len(payload)).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": url.path, "raw_path": url.path.encode(), "root_path": "",
        "query_string": url.query.encode(), "headers": raw_headers,
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that keeps the connection open
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


ROUNDS = 12


async def cpu_per_request(app: Any, make: Any, requests: int, warmup: int, first: int) -> float:
    """Milliseconds of this process's CPU per request, after ``warmup`` requests: the best of
    ``ROUNDS`` rounds (on a shared machine the others only add what neighbours cost in caches)."""
    for n in range(first, first + warmup):
        await _checked(app, make(n))
    per_round = max(requests // ROUNDS, 1)
    best = float("inf")
    n = first + warmup
    for _ in range(ROUNDS):
        gc.collect()
        started = time.process_time()
        for n in range(n, n + per_round):  # noqa: B020 - continues the numbering
            await _checked(app, make(n))
        best = min(best, (time.process_time() - started) * 1000 / per_round)
        n += 1
    return best


async def _checked(app: Any, request: Request) -> None:
    status, body = await call(app, request)
    if status >= 300:
        raise SystemExit(f"{request[0]} {request[1]}: {status} {body[:300]!r}")


async def main(args: argparse.Namespace) -> None:
    url, _server = fixtures.database(args.data_dir)
    env = {**fixtures.app_env(args.data_dir, url), "WIJKWERK_LOG_LEVEL": args.log_level}
    settings = fixtures.settings_from(env)
    app = create_app(settings)
    results: dict[str, dict[str, float]] = {}
    with contextlib.redirect_stdout(io.StringIO()) as lines:  # the access lines, as uvicorn's /dev/null
        await _measure(args, app, settings, url, env, results, lines)
    print(f"CPU ms per request in process ({args.requests} requests, log level {args.log_level}):")
    for name, row in results.items():
        ratio = f"  app/floor {row['app'] / row['floor']:.2f}" if "floor" in row else ""
        floor = f"  floor {row['floor']:.3f}" if "floor" in row else ""
        calls = f"  calls {row['calls']:.0f}" if "calls" in row else ""
        print(f"  {name:9} app {row['app']:.3f}{floor}{ratio}{calls}")


async def _measure(
    args: argparse.Namespace,
    app: Any,
    settings: Any,
    url: str,
    env: dict[str, str],
    results: dict[str, dict[str, float]],
    lines: io.StringIO,
) -> None:
    async with app.router.lifespan_context(app):
        facts = await fixtures.prepare(app.state.db, settings)
        if "sync" in args.scenarios:
            await fixtures.a_day_of_work(app.state.db, settings, facts)
        for name in args.scenarios:
            make = requests_for(name, facts)
            results[name] = {"app": await cpu_per_request(app, make, args.requests, args.warmup, 0)}
            if args.calls:
                results[name]["calls"] = await calls_per_request(app, make)
            lines.seek(0)
            lines.truncate()
            if args.cprofile:
                await _cprofile(app, make, args.requests, args.cprofile / f"{name}.txt")
    if args.floor:
        await _floor(args, url, env, facts, results)


async def calls_per_request(app: Any, make: Any, requests: int = 200) -> float:
    """Python function calls per request (cProfile's count, primitive and recursive alike)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(2 * 10**5, 2 * 10**5 + requests):
        await _checked(app, make(n))
    profiler.disable()
    total: int = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
    return total / requests


async def _cprofile(app: Any, make: Any, requests: int, out: Path) -> None:
    """cProfile on CPU time (not wall time: waiting for PostgreSQL is not in it), top functions."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for n in range(10**5, 10**5 + requests):
        await _checked(app, make(n))
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(45)
    stats.sort_stats("cumulative").print_stats(90)
    stats.print_callers("run_in_threadpool|greenlet_spawn")
    await asyncio.to_thread(_write, out, text.getvalue())


def _write(out: Path, text: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


async def _floor(
    args: argparse.Namespace,
    url: str,
    env: dict[str, str],
    facts: fixtures.Fixtures,
    results: dict[str, dict[str, float]],
) -> None:
    os.environ.update(
        FLOOR_DSN=url.replace("postgresql+asyncpg://", "postgresql://", 1),
        **facts.floor_env(),
        FLOOR_SECRET=fixtures.settings_from(env).secret("secret_key"),
    )
    from bench.casefile import floor

    floor.floor.__init__()  # type: ignore[misc]  # read the environment just set
    async with floor.app.router.lifespan_context(floor.app):
        for name in args.scenarios:
            if name == "sync":
                continue  # the floor replays a script the runner captures (bench.casefile.run)
            make = requests_for(name, facts)
            ms = await cpu_per_request(floor.app, make, args.requests, args.warmup, 10**6)
            results[name]["floor"] = ms


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", choices=NAMES, default=["overview", "list"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--data-dir", type=Path, default=fixtures.DATA_DIR)
    parser.add_argument("--log-level", default="INFO", help="INFO writes the access lines, as production")
    parser.add_argument("--no-floor", dest="floor", action="store_false")
    parser.add_argument("--cprofile", type=Path, help="a folder: a CPU-time cProfile per scenario")
    parser.add_argument("--calls", action="store_true", help="also Python function calls per request")
    args = parser.parse_args()
    uvloop.run(main(args))
