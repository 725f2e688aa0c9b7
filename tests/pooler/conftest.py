"""A real PgBouncer in transaction mode in front of the suite's database, and the app connected
through it (``WIJKWERK_DATABASE_POOLER=transaction``), its migrations on the direct connection.

PgBouncer is Debian's ``pgbouncer`` package (``scripts/test`` installs it where it can). Missing, the
tests fail and say how to install it: they are never skipped. It gets a folder of its own next to the
suite's servers (its ini and userlist, readable by the system user the embedded server runs as), and
four server connections for the app's sixteen: clients really take turns on server connections.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import async_url
from app.main import create_app
from app.settings import DatabasePooler, Settings

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA_DIR = Path(os.environ.get("WIJKWERK_TEST_DATA_DIR", ROOT / ".wijkwerk" / "tests"))
FOLDER = TEST_DATA_DIR / (os.environ.get("PYTEST_XDIST_WORKER", "main") + "-pgbouncer")
INSTALL = "apt-get install -y pgbouncer"
SERVER_CONNECTIONS = 4


def _binary() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        pytest.fail(
            f"PgBouncer is not installed; these tests need it: `{INSTALL}` (scripts/test does it as root)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"pgbouncer exited with {process.returncode}: {process.stderr and process.stderr.read()!r}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("pgbouncer did not start listening")


@pytest.fixture(scope="module")
def pgbouncer(migrated: str) -> Iterator[str]:
    """The URL of the suite's database through a PgBouncer in transaction mode."""
    binary = _binary()
    direct = make_url(async_url(migrated))
    socket_dir = str(direct.query["host"])
    port = _free_port()
    FOLDER.mkdir(parents=True, exist_ok=True)
    FOLDER.chmod(0o755)
    userlist = FOLDER / "userlist.txt"
    userlist.write_text(f'"{direct.username}" ""\n')
    ini = FOLDER / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"{direct.database} = host={socket_dir} dbname={direct.database} user={direct.username}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {userlist}\n"
        f"pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 200\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    for path in (userlist, ini):
        path.chmod(0o644)
    command = [binary, str(ini)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: run it as the embedded server's user
        command[1:1] = ["-u", pwd.getpwuid(os.stat(socket_dir).st_uid).pw_name]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_listening(port, process)
        yield f"postgresql://{direct.username}@127.0.0.1:{port}/{direct.database}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
async def database_timeout(migrated: str) -> AsyncIterator[str]:
    """The statement timeout set where a pooler keeps it: on the database (or the role), not sent
    by each connection (PgBouncer does not pass it on)."""
    admin = create_async_engine(async_url(migrated), isolation_level="AUTOCOMMIT")
    name = make_url(async_url(migrated)).database
    async with admin.connect() as connection:
        await connection.execute(text(f"ALTER DATABASE \"{name}\" SET statement_timeout = '4321ms'"))
    try:
        yield "4321ms"
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" RESET statement_timeout'))
        await admin.dispose()


@pytest.fixture(scope="module")
async def pooled_app(
    pgbouncer: str, database_timeout: str, migrated: str, settings: Settings
) -> AsyncIterator[FastAPI]:
    pooled = settings.model_copy(
        update={"database_pooler": DatabasePooler.transaction, "migration_database_url": migrated}
    )
    application = create_app(pooled, database_url=pgbouncer)
    async with application.router.lifespan_context(application):
        yield application
