"""CPU time per partner POST in the server process: a load-independent measure of the request path.

    .venv/bin/python -m bench.referrals.cpu [--requests 3000] [--concurrency 16] [--stack wijkwerk whatif]

Starts a real uvicorn (one worker, uvloop + httptools, production settings) on the benchmark database,
sends a warm-up and then ``--requests`` partner POSTs over ``--concurrency`` kept-alive connections
(a small raw HTTP/1.1 client, so the driver costs little), and reads the server process's own CPU time
(user + system, from /proc) before and after. CPU ms per request does not depend on how busy the
machine is the way requests/s does (a busy machine still inflates it a little: caches, frequency).
The database server's CPU is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from bench.harness import ROOT, _wait_ready, free_port
from bench.referrals import data

PATH = "/api/v1/referrals"
STACKS = {"wijkwerk": "app.asgi:create", "whatif": "bench.referrals.whatif:create"}
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (its threads included), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _request(token: str, n: int, prefix: str) -> bytes:
    body = json.dumps(data.referral_body(data.BUURTEN[n % len(data.BUURTEN)], str(n))).encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: {prefix}-{n}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def drive(port: int, tokens: list[str], requests: int, concurrency: int, prefix: str) -> int:
    """Send ``requests`` POSTs over ``concurrency`` connections; returns how many were not 201."""
    numbers = iter(range(requests))
    failed = 0

    async def connection() -> None:
        nonlocal failed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in numbers:
                writer.write(_request(tokens[n % len(tokens)], n, prefix))
                if await _read_response(reader) != 201:
                    failed += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return failed


@dataclass
class CpuResult:
    stack: str
    requests: int
    cpu_ms_per_request: float
    wall_s: float
    failed: int
    load: float

    def line(self) -> str:
        return (
            f"{self.stack}: {self.cpu_ms_per_request:.2f} ms CPU/request over {self.requests} requests "
            f"({self.requests / self.wall_s:.0f}/s wall, {self.failed} failed, load {self.load:.2f})"
        )


def measure(
    stack: str, db: data.BenchDatabase, tokens: list[str], requests: int, concurrency: int
) -> CpuResult:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", STACKS[stack], "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip
    env = {**os.environ, **data.environment(db.url)}
    if stack == "whatif":
        env["WIJKWERK_DB_POOL_SIZE"] = str(concurrency)
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", process)
        prefix = f"cpu-{time.time_ns()}"
        asyncio.run(drive(port, tokens, min(requests, 400), concurrency, prefix + "-warm"))
        before, started = cpu_seconds(process.pid), time.monotonic()
        failed = asyncio.run(drive(port, tokens, requests, concurrency, prefix))
        spent, wall = cpu_seconds(process.pid) - before, time.monotonic() - started
    finally:
        process.terminate()
        process.wait(timeout=15)
    return CpuResult(stack, requests, 1000 * spent / requests, wall, failed, os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--stack", nargs="+", default=["wijkwerk", "whatif"], choices=list(STACKS))
    options = parser.parse_args()
    db = data.start()
    asyncio.run(data.prepare(db))
    tokens = asyncio.run(data.partner_tokens(db.url))
    for _ in range(options.repeats):
        for stack in options.stack:
            print(measure(stack, db, tokens, options.requests, options.concurrency).line(), flush=True)


if __name__ == "__main__":
    main()
