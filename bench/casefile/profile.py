"""Profile one scenario of the case-file benchmark in process (pyinstrument), to find what to fix.

    .venv/bin/python -m bench.casefile.profile overview [--requests 2000] [--html out.html]

Runs the real app (production settings, the benchmark data) through httpx's ASGI transport, so the
profile holds everything but the HTTP server: middleware, dependencies, token check, SQL, JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from pathlib import Path

import httpx

from app.main import create_app
from bench.casefile import fixtures
from bench.casefile.counting import counting
from bench.casefile.scenarios import NAMES, requests_for


async def main(args: argparse.Namespace) -> None:
    url, _server = fixtures.database(args.data_dir)
    env = {**fixtures.app_env(args.data_dir, url), "WIJKWERK_LOG_LEVEL": "WARNING"}  # no access lines
    settings = fixtures.settings_from(env)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        facts = await fixtures.prepare(app.state.db, settings)
        if args.scenario == "sync":
            await fixtures.a_day_of_work(app.state.db, settings, facts)
        make = requests_for(args.scenario, facts)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            counter_requests = itertools.count()
            for _ in range(args.warmup):  # warm caches and pools
                await _send(client, make(next(counter_requests)))
            with counting(app.state.db.engine) as counter:
                await _send(client, make(next(counter_requests)))
            print(f"{len(counter.statements)} driver statements, {counter.cursor} through SQLAlchemy:")
            for statement in counter.statements:
                print("   ", statement[:140])
            started = time.perf_counter()
            for _ in range(args.requests):
                await _send(client, make(next(counter_requests)))
            elapsed = time.perf_counter() - started
            print(f"{args.requests / elapsed:.0f} requests/s in process without the profiler")
            profiler = _profiler()
            started = time.perf_counter()
            with profiler:
                for _ in range(args.requests):
                    await _send(client, make(next(counter_requests)))
            elapsed = time.perf_counter() - started
    print(f"{args.requests / elapsed:.0f} requests/s in process with the profiler")
    if args.html:
        args.html.write_text(profiler.output_html())
    print(profiler.output_text(unicode=True, color=False, show_all=False))


async def _send(client: httpx.AsyncClient, request: tuple[str, str, dict[str, str], str | None]) -> None:
    method, path, headers, body = request
    response = await client.request(method, path, headers=headers, content=body)
    if response.status_code >= 300:
        raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:300]}")


def _profiler():  # type: ignore[no-untyped-def]
    from pyinstrument import Profiler  # a development tool: pip install pyinstrument

    return Profiler(interval=0.0002, async_mode="enabled")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=NAMES)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--data-dir", type=Path, default=fixtures.DATA_DIR)
    parser.add_argument("--html", type=Path)
    asyncio.run(main(parser.parse_args()))
