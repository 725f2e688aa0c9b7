"""Python CPU per directory search, in process (no HTTP server, no load generator): the 48 search
paths of ``bench.directory.run`` through the ASGI app, ``--rounds`` times in turn, anonymous caller,
production settings and WARNING logging; ``time.process_time`` (this process's CPU only, so the
database's work is left out and other processes on a shared machine count for little).

    .venv/bin/python -m bench.directory.cpu               # 3 rounds of the 48 searches (144)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

from bench.casefile.fixtures import app_env, settings_from
from bench.directory.run import DATA_DIR, _load_demo, _prepare, load_average, log


async def _measure(env: dict[str, str], paths: list[str], rounds: int) -> tuple[list[float], int]:
    """CPU ms of each round of searches (after one warm round), and the statements per search."""
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
                for path in paths:
                    (await client.get(path)).raise_for_status()
                per_round.append((time.process_time() - started) * 1000 / len(paths))
    return per_round, len(paths) * rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from app.embedded import start_embedded_postgres

    _load_demo()
    url, pg = start_embedded_postgres(DATA_DIR)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        paths, _ = asyncio.run(_prepare(url, dsn))
        before = load_average()
        per_round, searches = asyncio.run(_measure(app_env(DATA_DIR, url), paths, args.rounds))
        after = load_average()
    finally:
        pg.cleanup()
    log(f"rounds (CPU ms per search): {', '.join(f'{r:.2f}' for r in per_round)}")
    print(
        f"{searches} searches: median {statistics.median(per_round):.2f} ms Python CPU per search "
        f"(process_time); load (1 min) before {before:.2f}, after {after:.2f}"
    )


if __name__ == "__main__":
    main()
