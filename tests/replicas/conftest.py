"""A primary of its own (the embedded server, migrated) with a real streaming replica, and the app
reading from it: the replica is made with ``pg_basebackup -R`` by the code ``wijkwerk serve
--replica`` uses."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.db import Database
from app.embedded import (
    EmbeddedReplica,
    create_database,
    drop_database,
    start_embedded_postgres,
    start_embedded_replica,
)
from app.main import create_app
from app.migrations import upgrade
from app.settings import Settings
from tests.replicas.support import DATABASE

# Next to the suite's own servers, not under pytest's temporary folders: every pytest run that starts
# makes its temporary root private again (0700), and the servers run as their own system user.
ROOT = Path(__file__).resolve().parents[2]
TEST_DATA_DIR = Path(os.environ.get("WIJKWERK_TEST_DATA_DIR", ROOT / ".wijkwerk" / "tests"))
SERVERS = TEST_DATA_DIR / (os.environ.get("PYTEST_XDIST_WORKER", "main") + "-replicated")


@pytest.fixture(scope="module")
def primary() -> Iterator[tuple[str, Any]]:
    url, server = start_embedded_postgres(SERVERS / "primary", DATABASE)
    # The server outlives a run; its database must not (keys wrapped with another run's secret).
    drop_database(server, DATABASE)
    create_database(server, DATABASE)
    try:
        yield url, server
    finally:
        drop_database(server, DATABASE)
        server.cleanup()


@pytest.fixture(scope="module")
async def migrated_primary(primary: tuple[str, Any], settings: Settings) -> str:
    url, _ = primary
    db = Database(url, settings)
    await upgrade(db.engine)
    await db.dispose()
    return url


@pytest.fixture(scope="module")
def replica(migrated_primary: str, primary: tuple[str, Any]) -> Iterator[EmbeddedReplica]:
    # A missing pg_basebackup, pg_ctl or postgres fails here with how to install it: never a skip.
    standby = start_embedded_replica(primary[1], SERVERS / "replica")
    try:
        yield standby
    finally:
        standby.stop()


@pytest.fixture(scope="module")
async def replicated_app(
    migrated_primary: str, replica: EmbeddedReplica, settings: Settings
) -> AsyncIterator[FastAPI]:
    # Checked before every read (0 s): each test sees the replica's state of that moment.
    reading = settings.model_copy(
        update={
            "read_database_url": [replica.url(DATABASE)],
            "read_check_seconds": 0.0,
            "read_max_lag_seconds": 30.0,
        }
    )
    application = create_app(reading, database_url=migrated_primary)
    async with application.router.lifespan_context(application):
        yield application
