"""In-process look at one partner POST: SQL statements and transactions per request, and a profile.

    .venv/bin/python -m bench.referrals.profile [--requests 300] [--profile] [--sql]

Runs the real app (production settings) through httpx's ASGI transport against the benchmark
database, counts the statements and transactions of one request, and optionally profiles a batch
(cProfile, sorted by cumulative and own time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import event

from app.db import RawStatement
from app.main import create_app
from bench.referrals import data


@dataclass
class SqlCount:
    statements: int
    transactions: int
    checkouts: int
    texts: list[str]
    alone: int = 0  # of the statements, those run on their own (no transaction, no ORM session)


async def _post(client: httpx.AsyncClient, token: str, n: int) -> httpx.Response:
    body = data.referral_body(data.BUURTEN[n % len(data.BUURTEN)], str(n))
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": data.new_key()}
    response = await client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


async def count_sql(url: str, tokens: list[str]) -> SqlCount:
    """Statements, transactions and pool checkouts of one POST (after a warm-up request)."""
    config = data.settings(url)
    config.rate_limit_machine_per_minute = 1_000_000
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await _post(client, tokens[0], 0)
            engine = app.state.db.engine.sync_engine
            seen: list[str] = []
            counts = {"begin": 0, "checkout": 0, "raw": 0}

            def statement(*args: Any) -> None:
                seen.append(args[2])

            def begin(*_: Any) -> None:
                counts["begin"] += 1

            def checkout(*_: Any) -> None:
                counts["checkout"] += 1

            # A single raw statement on its own bypasses SQLAlchemy (the database's own asyncpg pool,
            # no transaction): counted at its one door, ``Database.fetch_one``.
            database = app.state.db
            fetch_one = database.fetch_one

            async def raw_fetch_one(raw: RawStatement, values: Any) -> Any:
                seen.append(raw.sql)
                counts["raw"] += 1
                return await fetch_one(raw, values)

            event.listen(engine, "before_cursor_execute", statement)
            event.listen(engine, "begin", begin)
            event.listen(engine.pool, "checkout", checkout)
            database.fetch_one = raw_fetch_one
            try:
                await _post(client, tokens[1], 1)
            finally:
                del database.fetch_one
                event.remove(engine, "before_cursor_execute", statement)
                event.remove(engine, "begin", begin)
                event.remove(engine.pool, "checkout", checkout)
    return SqlCount(len(seen), counts["begin"], counts["checkout"], seen, counts["raw"])


async def profile(
    url: str, tokens: list[str], requests: int, *, concurrency: int = 16, sampling: bool = False
) -> str:
    config = data.settings(url)
    config.rate_limit_machine_per_minute = 1_000_000
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for n in range(20):
                await _post(client, tokens[n % len(tokens)], n)
            queue = iter(range(requests))

            async def worker() -> None:
                for n in queue:
                    await _post(client, tokens[n % len(tokens)], n)

            if sampling:
                from pyinstrument import Profiler  # dev-only: pip install pyinstrument

                sampler = Profiler(async_mode="disabled", interval=0.0005)
                sampler.start()
                await asyncio.gather(*(worker() for _ in range(concurrency)))
                sampler.stop()
                return str(sampler.output_text(unicode=False, color=False, show_all=False))
            profiler = cProfile.Profile()
            profiler.enable()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="cProfile a batch of requests")
    parser.add_argument("--sample", action="store_true", help="pyinstrument instead of cProfile")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request")
    options = parser.parse_args()
    db = data.start()
    asyncio.run(data.prepare(db))
    tokens = asyncio.run(data.partner_tokens(db.url))
    found = asyncio.run(count_sql(db.url, tokens))
    print(
        f"one POST: {found.statements} SQL statements ({found.alone} on their own), "
        f"{found.transactions} transactions, {found.checkouts} ORM pool checkouts"
    )
    if options.sql:
        for text in found.texts:
            print("---", " ".join(text.split()))
    if options.profile or options.sample:
        print(asyncio.run(profile(db.url, tokens, options.requests, sampling=options.sample)))


if __name__ == "__main__":
    main()
