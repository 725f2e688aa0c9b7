"""wrk load for partner POSTs: a token per partner, rotated per request, a fresh Idempotency-Key each.

(``bench.harness.Scenario`` sends one fixed set of headers; here every request carries the next
partner's token, the next buurt, a new key and a numbered body, so the Lua script is our own.
The harness parses wrk's output and aggregates the repeats.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable

from bench.harness import Measurement, RunResult, parse_wrk

_LUA = """
local tokens = {%(tokens)s}
local buurten = {%(buurten)s}
local template = %(template)s
local prefix = %(prefix)s
local counter = 0
wrk.method = "POST"
request = function()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1]
  headers["Idempotency-Key"] = prefix .. counter
  local body = string.format(template, tostring(counter), buurten[(counter %% #buurten) + 1])
  return wrk.format(nil, %(path)s, headers, body)
end
"""


def lua(tokens: list[str], buurten: list[str], template: str, path: str) -> str:
    """``template`` is a JSON body with ``%s`` for the request number, then ``%s`` for the buurt code."""

    def table(values: list[str]) -> str:
        return ", ".join(json.dumps(v) for v in values)

    return _LUA % {
        "tokens": table(tokens),
        "buurten": table(buurten),
        "template": json.dumps(template),
        "prefix": json.dumps(f"bench-{uuid.uuid4().hex}-"),  # a new key space for every run
        "path": json.dumps(path),
    }


def run_wrk(
    base: str, script: str, *, connections: int, seconds: int, timeout: int = 2
) -> tuple[RunResult, str]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "--latency",
             "-s", handle.name, base],
            capture_output=True, text=True, timeout=seconds + timeout + 30, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    return parse_wrk(output), output


def measure(
    name: str,
    base: str,
    script: Callable[[], str],
    *,
    connections: int,
    seconds: int,
    repeats: int,
    warmup: int,
) -> Measurement:
    """Warm up, then ``repeats`` timed runs; ``script`` makes each run's Lua (new keys every time)."""
    run_wrk(base, script(), connections=connections, seconds=warmup)
    runs = []
    for _ in range(repeats):
        result, _ = run_wrk(base, script(), connections=connections, seconds=seconds)
        print(f"  {name}: {result.requests_per_second:.0f}/s p99 {result.p99_ms:.1f} ms", flush=True)
        runs.append(result)
    return Measurement(name, runs)
