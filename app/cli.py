"""The ``wijkwerk`` command: run the service, migrate, load demo data, and set up clients and people.

Without ``DATABASE_URL`` every command starts the embedded PostgreSQL in ``WIJKWERK_DATA_DIR`` (default
``./.wijkwerk``) and stops it again when it is done (unless another process, e.g. a running
``serve``, still uses it). Progress and status go to stderr; results (credentials, JSON) to stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import DBAPIError

from app.bootstrap import wiring
from app.cli_areas import areas_app
from app.cli_directory import directory_app
from app.cli_jobs import maintain_partitions, partitions_app, purge, relay, stats_app
from app.cli_support import (
    choice,
    command_group,
    direct_database,
    err,
    labelled,
    load_settings,
    out,
    run_with_db,
    stop_embedded,
)
from app.db import Database
from app.demo import load_demo, write_credentials
from app.domain import text
from app.domain.identity import accounts
from app.domain.identity.keys import rotate_signing_key
from app.domain.identity.passwords import SecretHasher
from app.domain.identity.schemas import ClientCreate, UserCreate
from app.domain.organisation import service as organisation_service
from app.domain.unit_of_work.work import unit_of_work
from app.embedded import EmbeddedReplica, start_embedded_postgres, start_embedded_replica
from app.migrations import current_and_head, upgrade
from app.security.scopes import MACHINE_ROLES, PERSON_ROLES, Role
from app.settings import Settings
from app.web.observability import uvicorn_logging_options

T = TypeVar("T")

app = command_group("wijkwerk", help="Wijkwerk: the open API service for Dutch social neighbourhood teams.")
clients_app = command_group(help="OAuth clients of partner organisations and BI.")
users_app = command_group(help="People who sign in.")
openapi_app = command_group(help="The API contracts under openapi/.")
keys_app = command_group(help="Token signing keys.")
app.add_typer(clients_app, name="clients")
app.add_typer(users_app, name="users")
app.add_typer(openapi_app, name="openapi")
app.add_typer(keys_app, name="keys")


class Stopped(SystemExit):
    """SIGTERM outside uvicorn's own handling: leave through the ``finally`` blocks, exit code 0."""


async def _migrate(db: Database) -> tuple[set[str], set[str]]:
    await upgrade(db.engine)
    return await current_and_head(db.engine)


async def _load_demo(db: Database, settings: Settings, households: int | None) -> Path:
    with Progress(
        TextColumn("Loading demo data"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} {task.description}", markup=False),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("", total=None)

        def step(name: str, index: int, total: int) -> None:
            progress.update(task, completed=index, total=total, description=name)

        credentials = await load_demo(
            db, settings, wiring(), SecretHasher.for_settings(settings), households=households, on_step=step
        )
    return write_credentials(settings, credentials)


# -- serve -----------------------------------------------------------------------------------------


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise Stopped(0)

    signal.signal(signal.SIGTERM, handler)


def _public_host(host: str) -> str:
    return "localhost" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104 - compared, not bound


def _fast_loop() -> tuple[str, str]:
    try:
        import httptools  # noqa: F401
        import uvloop  # noqa: F401
    except ImportError:  # platforms without the C extensions: uvicorn's pure-Python fallbacks
        return "auto", "auto"
    return "uvloop", "httptools"


HouseholdsOption = Annotated[
    int | None,
    typer.Option(
        "--households",
        min=0,
        help="Number of demo households (for the households demo loader; default: its own).",
    ),
]


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Load demo data and write demo-credentials.json.")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    graceful_timeout: Annotated[
        int, typer.Option(min=1, max=600, help="Seconds in-flight requests get to finish on shutdown.")
    ] = 30,
    households: HouseholdsOption = None,
    replica: Annotated[
        bool,
        typer.Option(
            "--replica",
            help="Development only: start a streaming replica of the embedded PostgreSQL too and "
            "send the reads that may lag (statistics, public GraphQL) there.",
        ),
    ] = False,
) -> None:
    """Migrate the database and serve the API (starting an embedded PostgreSQL when none is set)."""
    started = time.monotonic()
    if demo:
        os.environ["WIJKWERK_DEMO"] = "true"
    # Tokens name this server as issuer, so by default it is the address we serve on.
    os.environ.setdefault("WIJKWERK_ISSUER", f"http://{_public_host(host)}:{port}")
    settings = load_settings()
    if replica:
        _refuse_replica_unless_embedded(settings)
    _stop_on_sigterm()
    server = None
    standby: EmbeddedReplica | None = None
    try:
        url = settings.database_url
        if url is None:
            with err.status(Text(f"Starting embedded PostgreSQL in {settings.data_dir} ...")):
                url, server = start_embedded_postgres(settings.data_dir)
            os.environ["DATABASE_URL"] = url  # for the uvicorn worker processes
            settings = load_settings()
        asyncio.run(_prepare(url, settings, demo, households))
        if replica:
            standby = _start_replica(server, settings)
            settings = load_settings()
        base = f"http://{_public_host(host)}:{port}"
        elapsed = time.monotonic() - started
        err.print(labelled("Prepared", "green", f"in {elapsed:.1f}s; serving {base} (API docs: {base}/docs)"))
        _run_uvicorn(host, port, workers, graceful_timeout, settings)
    except Stopped:
        pass  # SIGTERM: uvicorn let in-flight requests finish; now stop the database
    finally:
        if standby is not None:
            with err.status("Stopping the embedded replica ..."):
                standby.stop()
        if server is not None:
            stop_embedded(server)
    err.print("Stopped.")


def _refuse_replica_unless_embedded(settings: Settings) -> None:
    """``--replica`` copies the embedded server of a development run; production configures replicas
    of its own (``WIJKWERK_READ_DATABASE_URL``)."""
    if settings.is_production:
        err.print(
            labelled("Refused:", "red", "--replica is for development; in production set "
            "WIJKWERK_READ_DATABASE_URL to your streaming replicas (docs/operations.md).")
        )  # fmt: skip
        raise typer.Exit(2)
    if settings.database_url is not None:
        err.print(
            labelled("Refused:", "red", "--replica copies the embedded PostgreSQL; with DATABASE_URL "
            "set, point WIJKWERK_READ_DATABASE_URL at a replica of that server instead.")
        )  # fmt: skip
        raise typer.Exit(2)


def _start_replica(server: Any, settings: Settings) -> EmbeddedReplica:
    folder = settings.data_dir / "pgdata-replica"
    with err.status(Text(f"Starting a streaming replica in {folder} ...")):
        try:
            standby = start_embedded_replica(server, folder)
        except RuntimeError as error:
            err.print(labelled("Replica failed:", "red", str(error)))
            raise typer.Exit(1) from error
    os.environ["WIJKWERK_READ_DATABASE_URL"] = standby.url()  # for the uvicorn worker processes
    err.print(labelled("Replica", "green", "statistics and public GraphQL reads go to the replica"))
    return standby


async def _prepare(url: str, settings: Settings, demo: bool, households: int | None) -> None:
    url, settings = direct_database(url, settings)  # DDL on a direct connection, not the pooler
    db = Database(url, settings, pool_size=2, max_overflow=0)
    try:
        with err.status("Migrating the database to head ..."):
            current, _ = await _migrate(db)
        err.print(f"Database at revision {', '.join(sorted(current))}")
        await _maintain_partitions(db, settings)
        if demo:
            path = await _load_demo(db, settings, households)
            err.print(f"Demo credentials: {path}")
    finally:
        await db.dispose()


async def _maintain_partitions(db: Database, settings: Settings) -> None:
    """The coming months' partitions, before serving. A table busy past the lock timeout does not stop
    the start: until the job makes them, rows land in the default partition (docs/operations.md)."""
    try:
        made = await maintain_partitions(db, settings)
    except DBAPIError as error:
        err.print(labelled("Partitions not maintained", "yellow", f"({type(error).__name__}); run "
        "`wijkwerk partitions maintain` (docs/operations.md)."))  # fmt: skip
        return
    if made.created or made.in_default:
        err.print(f"Partitions made: {len(made.created)}; months left in the default: {len(made.in_default)}")


def _run_uvicorn(host: str, port: int, workers: int, graceful_timeout: int, settings: Settings) -> None:
    loop, http = _fast_loop()
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Several processes: /metrics on any worker must answer the sum of all of them.
        metrics_dir = settings.data_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    uvicorn.run(
        "app.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop=loop,
        http=http,
        proxy_headers=True,  # trusts X-Forwarded-* from FORWARDED_ALLOW_IPS (default 127.0.0.1)
        timeout_graceful_shutdown=graceful_timeout,
        log_level=settings.log_level.lower(),
        **uvicorn_logging_options(),
    )


# -- migrate and demo data -------------------------------------------------------------------------


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision."""
    settings = load_settings()

    async def work(db: Database) -> tuple[set[str], set[str]]:
        with err.status("Migrating the database to head ..."):
            return await _migrate(db)

    current, head = run_with_db(settings, work, direct=True)
    out.print(f"Database at {', '.join(sorted(current))} (head: {', '.join(sorted(head))})")


@app.command("demo-data")
def demo_data(households: HouseholdsOption = None) -> None:
    """Migrate, load the demo data (idempotent) and write <data_dir>/demo-credentials.json."""
    settings = load_settings()

    async def work(db: Database) -> Path:
        await _migrate(db)
        return await _load_demo(db, settings, households)

    path = run_with_db(settings, work, direct=True)
    out.print(f"Demo data loaded; credentials in {path}")


# -- clients ---------------------------------------------------------------------------------------


def _names(roles: frozenset[Role]) -> list[str]:
    """The roles' names in the order ``Role`` lists them."""
    return [str(role) for role in Role if role in roles]


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [scope for value in values for scope in value.replace(",", " ").split()]


def _print_result(title: str, rows: dict[str, Any], as_json: bool, note: str | None = None) -> None:
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title=title, show_header=False)
    for key, value in rows.items():
        table.add_row(key, "" if value is None else str(value))
    out.print(table)
    if note:
        out.print(note)


@clients_app.command("create")
def clients_create(
    role: Annotated[str, choice(_names(MACHINE_ROLES), help="The client's role.")],
    organisation: Annotated[
        str | None, typer.Option(help="Partner organisation id or name (partner clients).")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Display name (default: from role and organisation).")
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="Client id (default: generated).")] = None,
    scopes: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SCOPES",
            help="Allowed scopes (default: all of the role's): one value, separated by spaces or commas "
            '(--scopes "referrals:read referrals:write"), or the option repeated.',
        ),
    ] = None,
    auth_method: Annotated[
        str, choice(["client_secret_basic", "private_key_jwt"], help="How the client authenticates.")
    ] = "client_secret_basic",
    jwks: Annotated[
        Path | None, typer.Option(help="JWK Set file with the public keys (private_key_jwt).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the credentials as JSON.")] = False,
) -> None:
    """Register a machine client and print its credentials (the secret is shown only now)."""
    key_set = _read_jwks(jwks) if jwks else None
    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        async with unit_of_work(db, wiring()) as uow:
            partner = await organisation_service.find_partner(uow, organisation) if organisation else None
            data = ClientCreate.model_validate(
                {
                    "name": name or (f"{partner.name} ({role})" if partner else role.capitalize()),
                    "role": role,
                    "client_id": client_id,
                    "organisation_id": partner.id if partner else None,
                    "auth_method": auth_method,
                    "allowed_scopes": _split(scopes),
                    "jwks": key_set,
                }
            )
            client, secret = await accounts.create_client(uow, data, SecretHasher.for_settings(settings))
        return {
            "client_id": client.client_id,
            "client_secret": secret,
            "auth_method": client.auth_method,
            "role": client.role,
            "organisation_id": str(client.organisation_id) if client.organisation_id else None,
            "allowed_scopes": " ".join(client.allowed_scopes),
        }

    result = _validated(lambda: run_with_db(settings, work))
    note = "Store the secret now: it is kept only as a hash and cannot be shown again."
    _print_result("OAuth client", result, as_json, note if result["client_secret"] else None)


def _read_jwks(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise typer.BadParameter(f"cannot read a JSON JWK Set from {path}", param_hint="--jwks") from error


def _validated(action: Callable[[], T]) -> T:
    """Turn schema errors of command-line input into a readable message and exit code 2."""
    try:
        return action()
    except ValidationError as error:
        for problem in error.errors(include_input=False):
            rule, message = text.describe(problem)
            field = ".".join(str(p) for p in problem["loc"])
            err.print(labelled("invalid", "red", f"{field}: {message} ({rule})"))
        raise typer.Exit(2) from error


# -- users -----------------------------------------------------------------------------------------


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Sign-in name (lower case, digits, . _ -).")],
    role: Annotated[str, choice(_names(PERSON_ROLES), help="The person's role.")],
    display_name: Annotated[
        str | None, typer.Option(help="Name shown in the app (default: username).")
    ] = None,
    worker_id: Annotated[
        uuid.UUID | None, typer.Option(help="Link to a worker (generalists, team leads).")
    ] = None,
    bsn_read: Annotated[bool, typer.Option("--bsn-read", help="May reveal citizen service numbers.")] = False,
    external_subject: Annotated[str | None, typer.Option(help="Subject at the municipality's IdP.")] = None,
    generate_password: Annotated[
        bool, typer.Option("--generate-password", help="Generate a password and print it once.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Add a person who signs in. The password is prompted for, or generated and printed once."""
    if generate_password:
        password = secrets.token_urlsafe(15)
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        data = UserCreate.model_validate(
            {
                "username": username,
                "display_name": display_name or username,
                "role": role,
                "worker_id": worker_id,
                "bsn_read": bsn_read,
                "external_subject": external_subject,
                "password": password,
            }
        )
        async with unit_of_work(db, wiring()) as uow:
            user = await accounts.create_user(uow, data, SecretHasher.for_settings(settings))
        return {"id": str(user.id), "username": user.username, "role": user.role, "bsn_read": user.bsn_read}

    result = _validated(lambda: run_with_db(settings, work))
    if generate_password:
        result["password"] = password
    note = "Store the password now: it is kept only as a hash." if generate_password else None
    _print_result("User", result, as_json, note)


# -- contracts and keys ----------------------------------------------------------------------------


@openapi_app.command("export")
def openapi_export(
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Directory for the contract files (default: the repo's openapi/)."),
    ] = None,
) -> None:
    """Write openapi/openapi.json (and the other contracts) from the code."""
    # Imported here, not at the top: it imports the whole API (every router, the OAuth pages, the
    # GraphQL schema), which nearly doubles the start of every other command, the cron jobs included
    # (``python -X importtime``: about 2 s more on top of the CLI's 2.5 s).
    from app.contract import write_contracts

    with err.status("Generating the contracts ..."):
        written = write_contracts(out_dir) if out_dir else write_contracts()
    for path in written:
        out.print(f"wrote {path}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new token signing key (tokens signed with the previous one keep working until they expire)."""
    settings = load_settings()

    async def work(db: Database) -> str:
        with err.status("Generating a signing key ..."):
            return await rotate_signing_key(db, settings)

    kid = run_with_db(settings, work)
    out.print(f"New signing key: {kid}")


# The jobs next to the API (app/cli_jobs.py), listed after the commands above.
app.command()(relay)
app.command()(purge)
app.add_typer(stats_app, name="stats")
app.add_typer(partitions_app, name="partitions")
app.add_typer(areas_app, name="areas")
app.add_typer(directory_app, name="directory")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
