"""CPU time per request from /proc: a server's process tree and the benchmark PostgreSQL's.

The machine is shared (2 cores, other work running): requests per second move with the load of
others, CPU seconds spent per request much less. Measured around each timed run for the server
under test (all its threads and children) and for the benchmark PostgreSQL (postmaster and backends).
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def tree_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants (threads included)."""
    ticks = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            # utime, stime, and cutime, cstime: children that exited (PostgreSQL backends of closed
            # connections) are counted by their parent once reaped
            ticks += sum(int(f) for f in fields[11:15])
            pending.extend(_children(current))
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited meanwhile
    return ticks / TICK


def server_pid(base: str) -> int:
    """The child of this process serving ``base`` (its port is on its command line or in PORT)."""
    port = base.rsplit(":", 1)[1]
    for pid in _children(os.getpid()):
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if port.encode() in arguments or f"PORT={port}".encode() in environment:
            return pid
    raise LookupError(f"no child process serves {base}")


def postgres_pid(data_dir: Path) -> int:
    return int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
