"""Where a Wijkwerk GraphQL request spends its time: py-spy samples the server under wrk load.

    .venv/bin/pip install py-spy   # bench-only
    .venv/bin/python -m bench.graphql.profile dashboard|list [--seconds 15] [--native]

Production settings, 16 wrk connections, one uvicorn worker. Prints the share of samples per layer
(by the innermost frame that belongs to one, so the shares add up to 100%; ``--native`` adds C
frames: the garbage collector, system calls) and the top functions by own time. The collapsed
stacks go to bench/results/profile-<query>.txt (feed them to any flame-graph tool).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from bench.graphql import data, run
from bench.harness import _wait_ready, free_port, run_wrk

# Layers by the file of the innermost frame that matches one (own time: the shares add up to 100%).
LAYERS = {
    "garbage collector (C)": ("gc_collect_main", "gc_collect"),
    "system calls write/read (C)": ("write (libc", "read (libc", "epoll_wait"),
    "asyncpg + socket I/O (driver, syscalls)": ("asyncpg/", "selector_events", "uvloop", "selectors.py"),
    "sqlalchemy (statements, session, results)": ("sqlalchemy/",),
    "graphql-core execution": ("graphql/execution/", "graphql/type/", "graphql/pyutils/"),
    "graphql-core parse/validate": ("graphql/language/", "graphql/validation/", "graphql/utilities/"),
    "strawberry (fields, permissions, loaders, http view)": ("strawberry/",),
    "wijkwerk graphql (resolvers, types, context)": ("app/graphql/",),
    "wijkwerk domain (services, repositories)": ("app/domain/",),
    "wijkwerk api (unit of work, auth, middleware)": (
        "app/api/",
        "app/observability",
        "app/main.py",
        "app/api/oauth/",
    ),
    "fastapi/starlette (routing, dependencies)": ("fastapi/", "starlette/"),
    "uvicorn/httptools (HTTP)": ("uvicorn/", "httptools"),
    "json encoding": ("json/",),
    "asyncio event loop, tasks": ("asyncio/",),
}


# Leaf frames of a thread that waits (py-spy --native records them as if on CPU).
IDLE = ("epoll_wait", "select_epoll_poll", "EpollSelector.select")


def profile(query: str, seconds: int, native: bool) -> None:
    if shutil.which("py-spy") is None and not (Path(sys.executable).parent / "py-spy").exists():
        raise SystemExit("py-spy is needed: .venv/bin/pip install py-spy")
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    db = data.start()
    asyncio.run(data.prepare(db))
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "app.asgi:create", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, **run.production_env(db.url)}, cwd=data.ROOT)
    out = data.ROOT / "bench" / "results" / f"profile-{query}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process)
        scenario = run.scenarios("wijkwerk")[query]
        run_wrk(base, scenario, connections=16, seconds=3)  # warm-up
        load = threading.Thread(
            target=run_wrk, args=(base, scenario), kwargs={"connections": 16, "seconds": seconds + 2}
        )
        load.start()
        record = [spy, "record", "-p", str(process.pid), "-d", str(seconds), "-r", "200", "-f", "raw"]
        record += ["--native"] if native else []
        subprocess.run([*record, "-o", str(out)], check=True, capture_output=True)
        load.join()
    finally:
        process.terminate()
        process.wait(timeout=15)
    summarise(out)


def summarise(path: Path) -> None:
    layers: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in IDLE):  # waiting for I/O is not CPU
            continue
        total += samples
        own[_short(frames[-1])] += samples
        layers[_layer(frames)] += samples
    print(f"{total} samples; own time by layer (innermost matching frame)")
    for layer, samples in layers.most_common():
        print(f"  {samples / total:6.1%}  {layer}")
    print("top functions by own time")
    for name, samples in own.most_common(25):
        print(f"  {samples / total:6.1%}  {name}")


def _layer(frames: list[str]) -> str:
    for frame in reversed(frames):
        for layer, marks in LAYERS.items():
            if any(m in frame for m in marks):
                return layer
    return "other (interpreter, C code)"


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where.rsplit(':', 1)[0]})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("query", choices=["dashboard", "list"])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument(
        "--native", action="store_true", help="C frames too (the garbage collector, syscalls)"
    )
    parser.add_argument("--summarise", type=Path, help="only summarise an existing collapsed-stack file")
    options = parser.parse_args()
    if options.summarise:
        summarise(options.summarise)
    else:
        profile(options.query, options.seconds, options.native)


if __name__ == "__main__":
    main()
