"""CPU per GraphQL request, in process: load-independent numbers for the benchmark's two queries.

    .venv/bin/python -m bench.graphql.inproc [--requests 2000] [--concurrency 1|16] [--only list]
        [--profile] [--gc-freeze]

The real app with production settings (limits, masking, no introspection) is called straight over
ASGI (no HTTP client, no sockets on the client side): ``time.process_time()`` around N requests is
the app's own CPU per request (PostgreSQL runs in its own process and is not counted). The machine
is shared; CPU seconds move much less with the load of others than requests per second do.
``--concurrency 16`` keeps 16 requests in flight, as wrk's 16 clients do (more live objects: the
garbage collector's share grows). ``--profile`` prints pyinstrument's call tree of the timed run.
The queries are anonymous, as in the load benchmark: no token is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time

import orjson
import uvloop
from fastapi import FastAPI

from app.main import create_app
from bench.casefile.cpu import call as casefile_call
from bench.graphql import cpu, data, run

JSON = {"Content-Type": "application/json", "Host": "bench"}


async def call(asgi: FastAPI, body: bytes) -> tuple[int, bytes]:
    """One POST /graphql through the ASGI app: (status, body)."""
    return await asyncio.wait_for(casefile_call(asgi, ("POST", "/graphql", JSON, body.decode())), 60)


async def measure(asgi: FastAPI, body: bytes, requests: int, concurrency: int) -> tuple[float, float]:
    """CPU ms per request over ``requests`` requests, ``concurrency`` in flight: the app's, and the
    benchmark PostgreSQL's (postmaster and backends, from /proc)."""
    remaining = requests
    failures: list[bytes] = []

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            status, answer = await call(asgi, body)
            if status != 200 or b'"errors"' in answer:
                failures.append(answer[:300])

    postgres = cpu.postgres_pid(data.DATA_DIR)
    start, start_postgres = time.process_time(), cpu.tree_seconds(postgres)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    spent, spent_postgres = time.process_time() - start, cpu.tree_seconds(postgres) - start_postgres
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, e.g. {failures[0]!r}")
    return 1000 * spent / requests, 1000 * spent_postgres / requests


async def main_async(options: argparse.Namespace) -> None:
    db = data.start()
    await data.prepare(db)
    asgi = create_app(run.production_settings(db.url))
    async with asgi.router.lifespan_context(asgi):
        if options.gc_freeze:
            gc.freeze()
        bodies = {n: b.encode() for n, b in run.wijkwerk_bodies().items() if n in options.only}
        for name, body in bodies.items():
            await measure(asgi, body, 50, options.concurrency)  # warm: caches, pool, JIT-less
            rounds: list[tuple[float, float]] = []
            profiler = None
            if options.profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005, async_mode="disabled")
                profiler.start()
            for _ in range(options.rounds):
                rounds.append(await measure(asgi, body, options.requests, options.concurrency))
            if profiler is not None:
                profiler.stop()
            app_ms, postgres_ms = [r[0] for r in rounds], [r[1] for r in rounds]
            print(
                f"{name}: CPU ms/request min {min(app_ms):.2f} median {statistics.median(app_ms):.2f}"
                f" (rounds {', '.join(f'{r:.2f}' for r in app_ms)}; {options.requests} requests,"
                f" {options.concurrency} in flight); PostgreSQL min {min(postgres_ms):.2f}"
                f" median {statistics.median(postgres_ms):.2f}",
                flush=True,
            )
            if profiler is not None:
                print(profiler.output_text(unicode=False, color=False, show_all=False))
        if options.show:
            _, answer = await call(asgi, next(iter(bodies.values())))
            print(orjson.dumps(orjson.loads(answer), option=orjson.OPT_INDENT_2).decode()[:1500])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--only", nargs="+", default=["list", "dashboard"], choices=["dashboard", "list"])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after start-up (as app.asgi)")
    parser.add_argument("--show", action="store_true", help="print the start of one answer")
    uvloop.run(main_async(parser.parse_args()))  # as uvicorn --loop uvloop


if __name__ == "__main__":
    main()
