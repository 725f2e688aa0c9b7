"""The test harness: a real PostgreSQL, schema built by migrating, the real app over ASGI.

* The server is the embedded one unless ``TEST_DATABASE_URL`` names another server; either way every
  run (and every xdist worker) gets a database of its own, created here and dropped at the end. Each
  xdist worker runs an embedded server of its own (``.wijkwerk/tests/<worker>``): offline sync
  delivers a change once every older transaction on the server has ended (transaction ids are
  cluster-wide), so on a shared server one worker's long transaction (a demo load takes tens of
  seconds) would hold back the sync tests of the other.
* Tests commit for real (the app's unit of work commits), so each test makes its own municipality,
  teams and people (the ``world`` fixture, ``tests.factories``) and asserts only on what it made.
* Tokens come from the real token code (``app.domain.identity.grants``), signed with the app's own keys.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import Database, async_url
from app.embedded import drop_database, start_embedded_postgres
from app.main import create_app
from app.migrations import upgrade
from app.settings import Environment, PasswordHashing, Settings
from tests.factories import World
from tests.support.live_demo import LiveDemo, running_live_demo

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA_DIR = Path(os.environ.get("WIJKWERK_TEST_DATA_DIR", ROOT / ".wijkwerk" / "tests"))


WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _database_name() -> str:
    return f"wijkwerk_test_{WORKER}_{os.getpid()}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = _database_name()
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield from _external_database(external, name)
        return
    url, server = start_embedded_postgres(TEST_DATA_DIR / WORKER, name)
    try:
        yield url
    finally:
        drop_database(server, name)


def _external_database(admin_url: str, name: str) -> Iterator[str]:
    async def run(statement: str) -> None:
        engine = create_async_engine(async_url(admin_url), isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    base, _, query = async_url(admin_url).partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (("?" + query) if query else "")
    try:
        yield url
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("wijkwerk-data")
    return Settings(
        environment=Environment.test,
        data_dir=data_dir,
        issuer="http://test",
        secret_key=secrets.token_urlsafe(32),
        bsn_encryption_key=secrets.token_urlsafe(32),
        bsn_index_key=secrets.token_urlsafe(32),
        rate_limit_token_per_minute=10_000,
        rate_limit_machine_per_minute=100_000,
        # Hundreds of people and clients per run: argon2 at production cost would dominate the run.
        password_hashing=PasswordHashing.fast,
    )


@pytest.fixture(scope="session")
async def migrated(database_url: str, settings: Settings) -> str:
    db = Database(database_url, settings)
    await upgrade(db.engine)
    await db.dispose()
    return database_url


@pytest.fixture
async def scratch(database_url: str, settings: Settings) -> AsyncIterator[Database]:
    """An empty database of its own on the test server (for migrating it up and down)."""
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(async_url(database_url), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, query = async_url(database_url).partition("?")
    db = Database(base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else ""), settings)
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="session")
async def app(migrated: str, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database_url=migrated)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def db(app: FastAPI) -> Database:
    database: Database = app.state.db
    return database


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def world(app: FastAPI) -> World:
    """A fresh municipality with two wijken, buurten, teams A and B, people and clients of each role:
    what every test builds its data in (a world costs a few inserts: the test settings hash cheaply)."""
    return await World.create(app)


@pytest.fixture(scope="module")
async def shared_world(app: FastAPI) -> World:
    """One world for a module's data set that is built once and only read (a matrix of households that
    many tests look at): for module-scoped fixtures only; a test that writes takes ``world``."""
    return await World.create(app)


@pytest.fixture(scope="session")
async def live_demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveDemo]:
    """The one live demo of the run (tests/support/live_demo.py), for tests/demo and tests/wijk."""
    async with running_live_demo(tmp_path_factory.mktemp("live-demo")) as demo:
        yield demo


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a run in which two tests share a node id: xdist reports results by node id, so all but
    one of them would pass or fail unseen (pytest 9.2 gave schemathesis' 196 operation tests one id)."""
    shared = sorted(nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1)
    if shared:
        raise pytest.UsageError(f"{len(shared)} node ids name more than one test, e.g. {shared[:3]}")
