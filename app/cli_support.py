"""What every ``wijkwerk`` command shares: the consoles, the settings, and a database to work on
(the configured server, or the embedded one for the duration of the command)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from app.db import Database
from app.domain.errors import DomainError, ValidationFailed
from app.embedded import start_embedded_postgres
from app.settings import Settings, get_settings

T = TypeVar("T")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


# -- settings and database -------------------------------------------------------------------------


def load_settings() -> Settings:
    get_settings.cache_clear()  # commands (and tests) may have changed the environment
    try:
        return get_settings()
    except ValidationError as error:
        err.print(f"[red]Invalid settings:[/] {error.errors()[0]['msg']}")
        raise typer.Exit(2) from error


@contextmanager
def database_url(settings: Settings) -> Iterator[tuple[str, Any]]:
    """The configured database, or the embedded one started for the duration of the block."""
    if settings.database_url:
        yield settings.database_url, None
        return
    with err.status(f"Starting embedded PostgreSQL in {settings.data_dir} ..."):
        url, server = start_embedded_postgres(settings.data_dir)
    try:
        yield url, server
    finally:
        stop_embedded(server)


def stop_embedded(server: Any) -> None:
    with err.status("Stopping embedded PostgreSQL ..."):
        server.cleanup()  # stops it when this process holds the last handle


def run_with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` with a Database on the configured (or embedded) server; domain errors exit 1."""
    with database_url(settings) as (url, _):

        async def main() -> T:
            db = Database(url, settings, pool_size=2, max_overflow=0)
            try:
                return await work(db)
            finally:
                await db.dispose()

        try:
            return asyncio.run(main())
        except DomainError as error:
            print_domain_error(error)
            raise typer.Exit(1) from error


def print_domain_error(error: DomainError) -> None:
    err.print(f"[red]error[/] ({error.rule}): {error.detail}")
    if isinstance(error, ValidationFailed):
        for field in error.errors:
            err.print(f"  {'.'.join(str(p) for p in field.loc[1:])}: {field.message} ({field.rule})")
