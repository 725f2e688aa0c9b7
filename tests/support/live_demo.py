"""One live demo per test run: `wijkwerk serve --demo` started as a newcomer starts it, in a folder
laid out like a clone (``.venv``, ``docs/``), where the examples of the docs run too. The session
fixture ``live_demo`` (tests/conftest.py) starts it the first time a test asks, for tests/demo and
tests/wijk alike.

Under xdist each worker is a session of its own: every test module using the demo carries the mark
``ON_THE_DEMO_WORKER`` (one xdist group, and the suite runs ``--dist loadgroup``), so that one worker
runs them all and the demo starts once. Caveat: with pytest 9.2 and pytest-xdist 3.8 (constraints.txt)
``loadgroup`` does not group (xdist renames the test ids through an attribute pytest 9 no longer
reads), so the tests spread like ``--dist load`` and each worker that runs one starts its own demo:
at most one per worker. With pytest 8.4 the group holds.

It is started with ``WIJKWERK_WEBHOOK_ALLOW_PRIVATE_TARGETS=true``, as docs/partners.md says to try
webhooks against the demo with a receiver on your own machine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.demo.examples import ROOT
from tests.demo.live import VENV, Served, serve, stop, wait_ready

ON_THE_DEMO_WORKER = pytest.mark.xdist_group("live_demo")


@dataclass(frozen=True)
class LiveDemo:
    served: Served
    workspace: Path  # where it was started: .venv, docs/ and .wijkwerk/ (the data folder)
    startup_seconds: float  # from the command to /readyz answering 200

    @property
    def base_url(self) -> str:
        return self.served.base_url


@asynccontextmanager
async def running_live_demo(workspace: Path) -> AsyncIterator[LiveDemo]:
    """The demo served from ``workspace`` (an empty folder) until the block ends; nothing left running."""
    (workspace / ".venv").symlink_to(VENV, target_is_directory=True)
    (workspace / "docs").symlink_to(ROOT / "docs", target_is_directory=True)
    served = serve(workspace, workspace / ".wijkwerk", WIJKWERK_WEBHOOK_ALLOW_PRIVATE_TARGETS="true")
    try:
        seconds = await wait_ready(served)
        print(f"\n`wijkwerk serve --demo` ready in {seconds:.1f}s (fresh data folder, to /readyz 200)")
        yield LiveDemo(served, workspace, seconds)
    finally:
        stop(served)
