"""Python CPU per directory search, in process (no HTTP server, no load generator): the 48 search
paths of ``bench.directory.run`` through the ASGI app, ``--rounds`` times in turn, anonymous caller,
production settings and WARNING logging; ``time.process_time`` (this process's CPU only, so the
database's work is left out and other processes on a shared machine count for little).

    .venv/bin/python -m bench.directory.cpu               # 3 rounds of the 48 searches (144)
    .venv/bin/python -m bench.directory.cpu --cache on    # the same, answered by the answer cache
    .venv/bin/python -m bench.directory.cpu --profile 25  # + Python calls per search, top 25 functions

``--cache off`` (the default) sets ``WIJKWERK_DIRECTORY_ANSWER_CACHE_ENTRIES=0``: every search runs
its statement; ``on`` keeps the anonymous answers, so after the warm round every search is a kept
answer (one version read, no search statement).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import time

import httpx

from bench.casefile.fixtures import app_env, settings_from
from bench.directory.run import DATA_DIR, _load_demo, _prepare, load_average, log


async def _measure(
    env: dict[str, str], paths: list[str], rounds: int, profile: cProfile.Profile | None = None
) -> tuple[list[float], int]:
    """CPU ms of each round of searches (after one warm round), and how many searches; with
    ``profile``, the rounds run under it (the CPU figures then include the profiler's cost)."""
    from app.main import create_app

    app = create_app(settings_from({**env, "WIJKWERK_LOG_LEVEL": "WARNING"}))
    per_round: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            for path in paths:  # warm: prepared statements, caches, the statement builders
                (await client.get(path)).raise_for_status()
            for _ in range(rounds):
                started = time.process_time()
                if profile is not None:
                    profile.enable()
                for path in paths:
                    (await client.get(path)).raise_for_status()
                if profile is not None:
                    profile.disable()
                per_round.append((time.process_time() - started) * 1000 / len(paths))
    return per_round, len(paths) * rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", choices=("off", "on"), default="off")
    parser.add_argument("--profile", type=int, default=0, help="print this many functions by own time")
    args = parser.parse_args()

    from app.embedded import start_embedded_postgres

    _load_demo()
    url, pg = start_embedded_postgres(DATA_DIR)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        paths, _ = asyncio.run(_prepare(url, dsn))
        before = load_average()
        env = {**app_env(DATA_DIR, url), "WIJKWERK_DIRECTORY_ANSWER_CACHE_ENTRIES": "0"}
        if args.cache == "on":
            env.pop("WIJKWERK_DIRECTORY_ANSWER_CACHE_ENTRIES")
        profile = cProfile.Profile() if args.profile else None
        per_round, searches = asyncio.run(_measure(env, paths, args.rounds, profile))
        after = load_average()
    finally:
        pg.cleanup()
    log(f"rounds (CPU ms per search): {', '.join(f'{r:.2f}' for r in per_round)}")
    if profile is not None:
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(args.profile)
        print(f"Python function calls per search: {stats.total_calls / searches:,.0f}")  # type: ignore[attr-defined]
    print(
        f"{searches} searches, answer cache {args.cache}: median {statistics.median(per_round):.2f} ms "
        "Python CPU per search "
        f"(process_time); load (1 min) before {before:.2f}, after {after:.2f}"
    )


if __name__ == "__main__":
    main()
