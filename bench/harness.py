"""Load-benchmark plumbing shared by every benchmark in bench/.

* ``Server`` runs a real uvicorn (or any ASGI app given as ``module:attr``) in a subprocess on loopback.
* ``run_wrk`` drives it with wrk (Debian package ``wrk``), with a Lua script for headers, bodies and
  per-request paths, and parses throughput, latency percentiles and errors.
* ``measure`` repeats a run (default 3x after a warm-up) and reports the median and the spread.

Only loopback addresses are ever targeted. Every run is bounded in time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(app: str, env: dict[str, str], *, workers: int = 1, factory: bool = False) -> Iterator[str]:
    """Run ``uvicorn app`` on a free loopback port; yields its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", app,
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
        "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


@dataclass
class Scenario:
    """One request shape. ``paths`` rotate per request; ``body`` may hold ``{n}`` (a per-request value)."""

    name: str
    paths: list[str]
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    idempotency_keys: bool = False  # send a fresh Idempotency-Key per request


def _lua(scenario: Scenario) -> str:
    paths = ", ".join(json.dumps(p) for p in scenario.paths)
    headers = "\n".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in scenario.headers.items()
    )
    body = json.dumps(scenario.body) if scenario.body is not None else "nil"
    return f"""
local paths = {{{paths}}}
local counter = 0
local body = {body}
wrk.method = "{scenario.method}"
{headers}
request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  local hdrs = nil
  if {str(scenario.idempotency_keys).lower()} then
    hdrs = {{}}
    hdrs["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), math.random(1, 1000000000), counter)
  end
  local b = nil
  if body ~= nil then
    b = string.gsub(body, "{{n}}", tostring(counter) .. tostring(math.random(1, 1000000)))
  end
  return wrk.format(nil, path, hdrs, b)
end
"""


@dataclass
class RunResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    requests: int


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(output: str) -> RunResult:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return _ms(*match.groups()) if match else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return RunResult(
        requests_per_second=float(rps.group(1)) if rps else 0.0,
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        requests=int(total.group(1)) if total else 0,
    )


def run_wrk(base: str, scenario: Scenario, *, connections: int, seconds: int, timeout: int = 2) -> RunResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(scenario))
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "--latency",
             "-s", script.name, base],
            capture_output=True, text=True, timeout=seconds + timeout + 30, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    return parse_wrk(output)


@dataclass
class Measurement:
    name: str
    runs: list[RunResult]

    @property
    def median_rps(self) -> float:
        return statistics.median(r.requests_per_second for r in self.runs)

    @property
    def spread_rps(self) -> float:
        values = [r.requests_per_second for r in self.runs]
        return (max(values) - min(values)) / statistics.median(values) if values and min(values) else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.non_2xx + r.socket_errors for r in self.runs)

    def row(self) -> dict[str, object]:
        return {
            "name": self.name,
            "rps_median": round(self.median_rps, 1),
            "rps_spread": f"{self.spread_rps:.0%}",
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "errors": self.errors,
        }


def measure(
    base: str,
    scenario: Scenario,
    *,
    connections: int = 32,
    seconds: int = 10,
    repeats: int = 3,
    warmup: int = 3,
) -> Measurement:
    run_wrk(base, scenario, connections=connections, seconds=warmup)
    runs = [run_wrk(base, scenario, connections=connections, seconds=seconds) for _ in range(repeats)]
    return Measurement(scenario.name, runs)


def report(rows: list[dict[str, object]], out: Path | None = None) -> None:
    """Print a Markdown table (and save JSON next to it when ``out`` is given)."""
    if not rows:
        return
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2) + "\n")


__all__ = ["Measurement", "RunResult", "Scenario", "asdict", "measure", "report", "run_wrk", "server"]
