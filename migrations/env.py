"""Alembic environment: runs on a connection handed in by the application, or on DATABASE_URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import async_url
from app.models import include_name, metadata
from app.settings import get_settings

config = context.config
target_metadata = metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, include_name=include_name
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engine = create_async_engine(async_url(url), poolclass=pool.NullPool)
    async with engine.begin() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.attributes.get("url") or get_settings().database_url
    if not url:
        raise SystemExit("Set DATABASE_URL (or run `wijkwerk migrate`, which starts the embedded server).")
    asyncio.run(run_from_url(url))


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
main()
