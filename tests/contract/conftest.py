"""A real uvicorn server in a background thread (loopback only), and real tokens for every role.

Schemathesis talks HTTP to this server: the app it serves is a separate instance on the same test
database, with its own event loop in the server thread, so nothing is shared across event loops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from app.web.observability import access_log, uvicorn_logging_options

# Role -> the World actor whose token stands for it ("anonymous" sends none).
ROLE_ACTORS: dict[str, str] = {
    "generalist": "generalist_a",
    "team_lead": "team_lead_a",
    "partner": "partner_a",
    "analyst": "analyst",
    "resident": "resident",
    "network_coordinator": "network_coordinator",
    "privacy_officer": "privacy_officer",
    "admin": "admin",
    "household_member": "household_member",  # a member of a household of team A (self-service)
    "policy_officer": "policy_officer",
    "anonymous": "anonymous",
}


class _QuietAccessLines(logging.Filter):
    """Drop the live server's access lines (they would land between pytest's progress dots); its
    warnings and errors, such as the traceback frames of a 500, still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != LIVE_THREAD


LIVE_THREAD = "live-uvicorn"


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 at a free port, in a daemon thread."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", **uvicorn_logging_options())
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=LIVE_THREAD, daemon=True)
        self.quiet = _QuietAccessLines()

    def __enter__(self) -> str:
        access_log.addFilter(self.quiet)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live test server did not start")
            time.sleep(0.05)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        assert host == "127.0.0.1"
        return f"http://{host}:{port}"

    def __exit__(self, *exc_info: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        access_log.removeFilter(self.quiet)


@pytest.fixture(scope="session")
def live_server(migrated: str, settings: Settings) -> Iterator[str]:
    """Base URL of a real uvicorn server running the app on the test database."""
    with LiveServer(create_app(settings, database_url=migrated)) as base_url:
        yield base_url


@pytest.fixture(scope="session")
async def role_headers(app: FastAPI) -> dict[str, dict[str, str]]:
    """An Authorization header per role, with real tokens from the real token code."""
    from tests.factories import World
    from tests.self_service.support import member_headers

    world = await World.create(app)
    headers = {
        role: await world.headers(actor) for role, actor in ROLE_ACTORS.items() if role != "household_member"
    }
    headers["household_member"] = await member_headers(world)
    return headers
