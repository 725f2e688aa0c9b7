"""The ``wijkwerk`` jobs that run next to the API: the webhook relay, the retention purge, the
statistics refresh and the partition maintenance (docs/operations.md, "Jobs next to the API")."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import time
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from app.bootstrap import wiring
from app.cli_support import command_group, database_url, err, labelled, load_settings, out, run_with_db
from app.db import Database
from app.domain.retention.service import RunReport
from app.domain.retention.service import purge as run_purge
from app.domain.stats import rollups
from app.domain.unit_of_work import partitions
from app.domain.webhooks.relay import Tally, run_relay
from app.settings import Settings
from app.web.observability import JsonFormatter

stats_app = command_group(help="Statistics: the rollups the figures are read from.")
partitions_app = command_group(help="The monthly partitions of the access log and the change feed.")


def relay(
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Deliver what is due now, then exit (1 when attempts were made and none arrived)."
        ),
    ] = False,
) -> None:
    """Deliver queued webhook events to partners (safe to run in many copies).

    Reads the same settings as serve (WIJKWERK_* and DATABASE_URL): run it with serve's environment.
    """
    settings = load_settings()
    with database_url(settings) as (url, _):
        # The relay stops itself cleanly on SIGTERM/SIGINT (it finishes the attempt in hand).
        tally = asyncio.run(run_relay(settings, url, once=once))
    if once:
        _report_relay(tally)


# Why an attempt failed, for the categories a person can act on.
_FAILURE_HINTS = {
    "url_address_forbidden": (
        "the URL points to a private or local address; for a receiver on this machine set"
        " WIJKWERK_WEBHOOK_ALLOW_PRIVATE_TARGETS=true for the relay too (it reads the same settings as"
        " serve; ignored in production)"
    ),
    "url_scheme": "production settings send to https URLs only",
    "url_unresolvable": "the host name does not resolve from this machine",
    "connect_error": "the receiver did not accept the connection",
    "timeout": "the receiver did not answer in time",
    "http_status": "the receiver answered with a status other than 2xx",
}


def _report_relay(tally: Tally) -> None:
    """How many deliveries arrived, will be retried, are dead or were cancelled; exit 1 when attempts
    were made and none arrived (so cron and smoke tests notice)."""
    out.print(
        f"{tally.delivered} delivered, {tally.retried} to be retried, {tally.dead} dead,"
        f" {tally.cancelled} cancelled"
    )
    for category, count in sorted(tally.failures.items()):
        hint = _FAILURE_HINTS.get(category)
        out.print(f"  {count} failed with {category}" + (f": {hint}" if hint else ""), markup=False)
    if tally.nothing_delivered:
        err.print("[red]Nothing could be delivered.[/]")
        raise typer.Exit(1)


def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go now; remove nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Remove or blank data past its retention term (docs/privacy.md); every run is recorded."""
    settings = load_settings()
    try:
        actor = f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in some containers
        actor = "cli"

    async def work(db: Database) -> RunReport:
        with err.status("Dry run: counting ..." if dry_run else "Purging ..."):
            report = await run_purge(db, settings, wiring(), actor=actor, dry_run=dry_run)
        if str(report.outcome) == "completed" and not dry_run:
            await _refresh_rollups(db)  # purged data leaves the published figures too
        return report

    retention_log = logging.getLogger("app.retention")  # the run's structured line: stderr only
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    retention_log.addHandler(handler)
    retention_log.setLevel(logging.INFO)
    retention_log.propagate = False
    try:
        report = run_with_db(settings, work, direct=True)  # a session-level lock
    except SQLAlchemyError as error:  # recorded as failed; the message is not shown (it may hold ids)
        err.print(
            labelled("Purge failed", "red", f"({type(error).__name__}); see retention_runs and the logs.")
        )
        raise typer.Exit(1) from error
    finally:
        retention_log.removeHandler(handler)
        retention_log.propagate = True
    _print_purge(report, as_json)


def _print_purge(report: RunReport, as_json: bool) -> None:
    rows = {str(c): n for c, n in report.counts.items()}
    if as_json:
        result = {"run_id": str(report.run_id), "dry_run": report.dry_run, "outcome": str(report.outcome)}
        out.print_json(json.dumps({**result, "counts": rows}))
        return
    if str(report.outcome) == "skipped":
        err.print("Another purge is running; this run did nothing (recorded as skipped).")
        return
    title = f"Purge {report.run_id}" + (" (dry run: nothing removed)" if report.dry_run else "")
    table = Table(title=title)
    table.add_column("Category")
    table.add_column("Would go" if report.dry_run else "Removed", justify="right")
    table.add_column("Term (days)", justify="right")
    for category, count in report.counts.items():
        days = report.terms_days.get(category)
        table.add_row(str(category), str(count), str(days) if days else "on expiry")
    out.print(table)


# -- statistics ------------------------------------------------------------------------------------


async def _refresh_rollups(db: Database) -> datetime | None:
    with err.status("Refreshing the statistics rollups ..."):
        async with db.transaction() as session:
            return await rollups.refresh(session)


@stats_app.command("refresh")
def stats_refresh(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recompute the statistics rollups (readers keep the previous figures until it commits). Run it
    from cron every WIJKWERK_STATS_REFRESH_SECONDS; it waits for a refresh already running."""
    settings = load_settings()

    async def work(db: Database) -> tuple[Any, float]:
        started = time.perf_counter()
        refreshed = await _refresh_rollups(db)
        return refreshed, time.perf_counter() - started

    refreshed, seconds = run_with_db(settings, work)
    result = {
        "refreshed_at": refreshed.isoformat(),
        "seconds": round(seconds, 3),
        "views": list(rollups.VIEWS),
    }
    if as_json:
        out.print_json(json.dumps(result))
        return
    table = Table(title=f"Statistics rollups refreshed in {seconds:.1f} s")
    table.add_column("Materialized view")
    table.add_column("Figures as of")
    for view in rollups.VIEWS:
        table.add_row(view, result["refreshed_at"])
    out.print(table)


# -- partitions ------------------------------------------------------------------------------------


async def maintain_partitions(db: Database, settings: Settings) -> partitions.Maintained:
    """Make the coming months' partitions (``serve`` runs this at start-up too)."""
    async with db.transaction() as session:
        return await partitions.maintain(session, settings.partition_months_ahead)


@partitions_app.command("maintain")
def partitions_maintain(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Make this month's and the next WIJKWERK_PARTITION_MONTHS_AHEAD months' partitions of the access
    log and the change feed where missing. Run it from cron daily; running it again does nothing."""
    settings = load_settings()
    done = run_with_db(settings, lambda db: maintain_partitions(db, settings), direct=True)
    if as_json:
        out.print_json(json.dumps({"created": done.created, "in_default": done.in_default}))
        return
    out.print(
        f"{len(done.created)} partitions made" + (f": {', '.join(done.created)}" if done.created else "")
    )
    for name in done.in_default:
        err.print(
            labelled("Not made:", "yellow", f"{name}: rows of that month are already in the default partition"
            " (maintenance ran late); they stay there, see docs/operations.md.")
        )  # fmt: skip
