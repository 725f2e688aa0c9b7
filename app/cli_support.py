"""What every ``wijkwerk`` command shares: the command groups, the consoles, the settings, and a
database to work on (the configured server, or the embedded one for the duration of the command)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from app.db import Database
from app.domain.errors import DomainError, ValidationFailed
from app.embedded import start_embedded_postgres
from app.settings import DatabasePooler, Settings, get_settings

T = TypeVar("T")

# Neither console reads rich markup: what they print (messages, patterns such as ``[a-z0-9]``, paths,
# names) comes out as written. Colour is given explicitly, with ``labelled``.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def labelled(label: str, style: str, message: str) -> Text:
    """A line: ``label`` in colour, then ``message`` exactly as written."""
    return Text.assemble((label, style), " ", message)


def command_group(name: str | None = None, *, help: str) -> typer.Typer:
    """A group of ``wijkwerk`` commands, set up like all the others.

    Help comes in click's plain layout: typer's rich layout prints a value type (``<bool>``) next to
    switches such as ``--json`` that take no value.
    """
    return typer.Typer(
        name=name,
        help=help,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        context_settings={"max_content_width": 120},  # click's 80 cuts the command list short
        pretty_exceptions_enable=False,
    )


def choice(names: Sequence[str], *, help: str) -> Any:
    """An option that takes one of ``names``: its help lists exactly those, and nothing else parses."""

    def parse(value: str) -> str:
        if value not in names:
            raise typer.BadParameter(f"use one of: {', '.join(names)}")
        return value

    return typer.Option(parser=parse, metavar="|".join(names), help=help)


# -- settings and database -------------------------------------------------------------------------


def load_settings() -> Settings:
    get_settings.cache_clear()  # commands (and tests) may have changed the environment
    try:
        return get_settings()
    except ValidationError as error:
        err.print(labelled("Invalid settings:", "red", error.errors()[0]["msg"]))
        raise typer.Exit(2) from error


def direct_database(url: str, settings: Settings) -> tuple[str, Settings]:
    """Where DDL and session-level locks go (migrations, partitions, the purge): the direct
    connection ``WIJKWERK_MIGRATION_DATABASE_URL`` when the API runs behind a pooler, else ``url``."""
    if settings.migration_database_url is None:
        return url, settings
    return settings.migration_database_url, settings.model_copy(
        update={"database_pooler": DatabasePooler.none}
    )


@contextmanager
def database_url(settings: Settings) -> Iterator[tuple[str, Any]]:
    """The configured database, or the embedded one started for the duration of the block."""
    if settings.database_url:
        yield settings.database_url, None
        return
    with err.status(Text(f"Starting embedded PostgreSQL in {settings.data_dir} ...")):
        url, server = start_embedded_postgres(settings.data_dir)
    try:
        yield url, server
    finally:
        stop_embedded(server)


def stop_embedded(server: Any) -> None:
    with err.status("Stopping embedded PostgreSQL ..."):
        server.cleanup()  # stops it when this process holds the last handle


def run_with_db(settings: Settings, work: Callable[[Database], Awaitable[T]], *, direct: bool = False) -> T:
    """Run ``work`` with a Database on the configured (or embedded) server; domain errors exit 1.
    ``direct``: on the direct connection (``direct_database``), for DDL and session-level locks."""
    with database_url(settings) as (configured, _):
        url, options = direct_database(configured, settings) if direct else (configured, settings)

        async def main() -> T:
            db = Database(url, options, pool_size=2, max_overflow=0)
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
    err.print(labelled("error", "red", f"({error.rule}): {error.detail}"))
    if isinstance(error, ValidationFailed):
        for field in error.errors:
            err.print(f"  {'.'.join(str(p) for p in field.loc[1:])}: {field.message} ({field.rule})")
