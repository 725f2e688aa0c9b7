"""What the scale benchmark watches during a run: CPU per process group (from /proc), replica lag
(sampled on the primary once a second) and the webhook sink's arrivals.

CPU is utime + stime of every process in a group (a process and all its descendants, read from
/proc/<pid>/task/<pid>/children), as a share of one core over the run: 1.0 is a whole core. The
machine has two, shared with whatever else runs; the 1-minute load average is reported beside it.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

TICKS = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> set[int]:
    found = {pid}
    queue = [pid]
    while queue:
        current = queue.pop()
        children: list[str] = []
        for task in Path(f"/proc/{current}/task").glob("*"):  # children started by any thread
            try:
                children += (task / "children").read_text().split()
            except OSError:
                continue
        for child in map(int, children):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of ``pid`` (fields 14 and 15 of its stat); None once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


class CpuMeter:
    """CPU of named process groups over a span: ``start()``, then ``cores()`` per group.

    Groups are resampled every second, so backends and wrk processes started after ``start()`` count
    too; a process that ended between samples loses its last second (small, and only at the end).
    """

    def __init__(self, roots: dict[str, list[int]]) -> None:
        self.roots = roots
        self.last: dict[tuple[str, int], int] = {}
        self.used: dict[str, int] = {name: 0 for name in roots}
        self.began = 0.0
        self.stopped = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._sample(count=False)
        self.began = time.monotonic()
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._sample(count=True)
        self.stopped = time.monotonic()
        seconds = (self.stopped - self.began) or 1.0
        return {name: round(ticks / TICKS / seconds, 2) for name, ticks in self.used.items()}

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self._sample(count=True)

    def _sample(self, *, count: bool) -> None:
        for name, roots in self.roots.items():
            for pid in set().union(*(descendants(r) for r in roots)) if roots else set():
                now = cpu_ticks(pid)
                if now is None:
                    continue  # ended since it was listed: its last second is lost, not subtracted
                before = self.last.get((name, pid))
                if count:
                    self.used[name] += now - before if before is not None else 0
                self.last[(name, pid)] = now


REPLICATION = """
SELECT coalesce(extract(epoch FROM replay_lag), 0) AS lag_s,
       pg_wal_lsn_diff(sent_lsn, replay_lsn) AS behind_bytes
FROM pg_stat_replication
"""


@dataclass
class LagSamples:
    seconds: list[float] = field(default_factory=list)
    bytes: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        if not self.seconds:
            return {"samples": 0}
        ordered = sorted(self.seconds)
        return {
            "samples": len(ordered),
            "lag_ms_median": round(ordered[len(ordered) // 2] * 1000, 1),
            "lag_ms_max": round(ordered[-1] * 1000, 1),
            "behind_kb_max": round(max(self.bytes) / 1024, 1),
        }


async def sample_lag(dsn: str, seconds: float) -> LagSamples:
    """``pg_stat_replication`` on the primary once a second: replay lag as the primary sees it (the
    time from a commit to its replay on the replica) and how far behind the replay is in bytes."""
    samples = LagSamples()
    connection = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for row in await connection.fetch(REPLICATION):
                samples.seconds.append(float(row["lag_s"]))
                samples.bytes.append(float(row["behind_bytes"] or 0))
            await asyncio.sleep(1.0)
    finally:
        await connection.close()
    return samples
