"""``wijkwerk areas``: the municipality's areas, and the postcode/house-number table that places an
address in a buurt (CBS's yearly "buurt, wijk en gemeente per postcode en huisnummer" file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from app.bootstrap import wiring
from app.cli_support import command_group, err, labelled, load_settings, out, run_with_db
from app.db import Database
from app.domain.areas.service import ImportReport, PostcodeTableRefused, import_postcodes
from app.domain.unit_of_work.work import unit_of_work

areas_app = command_group(help="Areas: the postcode/house-number table that places addresses in buurten.")

# The progress bar moves per this many lines (redrawing it per line would cost more than the parsing).
PROGRESS_EVERY = 5_000


def _lines(handle: BinaryIO, progress: Progress, task: TaskID) -> Iterator[str]:
    """The file's lines as text (UTF-8; CBS's files may start with a byte-order mark), moving the bar
    by the bytes read."""
    read = 0
    for number, raw in enumerate(handle):
        read += len(raw)
        if number % PROGRESS_EVERY == 0:
            progress.update(task, completed=read)
        yield raw.decode("utf-8-sig" if number == 0 else "utf-8", errors="replace")
    progress.update(task, completed=read)


@areas_app.command("import")
def import_table(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")],
    year: Annotated[
        int | None,
        typer.Option(
            min=2000, max=2999, help="The table's year (default: the year in its header, BuurtYYYY)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Import a year's postcode table: every line is checked first; nothing is written unless all
    are right, and importing the same file again changes nothing. Lines of municipalities this
    service does not hold are passed over."""
    settings = load_settings()

    async def work(db: Database) -> ImportReport | PostcodeTableRefused:
        with (
            file.open("rb") as handle,
            Progress(
                TextColumn("Importing postcodes"),
                BarColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                console=err,
            ) as progress,
        ):
            task = progress.add_task("", total=file.stat().st_size)
            try:
                async with unit_of_work(db, wiring()) as uow:
                    return await import_postcodes(uow, _lines(handle, progress, task), year=year)
            except PostcodeTableRefused as refused:
                return refused

    report = run_with_db(settings, work)
    if isinstance(report, PostcodeTableRefused):
        _print_refusal(report)
        raise typer.Exit(1)
    _print_report(report, as_json)


def _print_refusal(refused: PostcodeTableRefused) -> None:
    err.print(labelled("refused", "red", refused.detail))
    for problem in refused.errors:
        err.print(f"  line {problem.line}: {problem.message}")
    if refused.total > len(refused.errors):
        err.print(f"  ... and {refused.total - len(refused.errors)} more")


def _print_report(report: ImportReport, as_json: bool) -> None:
    result = {
        "year": report.year,
        "addresses": report.addresses,
        "ranges": report.ranges,
        "passed_over": report.passed_over,
        "unchanged": report.unchanged,
    }
    if as_json:
        out.print_json(json.dumps(result))
    elif report.unchanged:
        out.print(f"The {report.year} table holds this file already: nothing changed.")
    else:
        out.print(
            f"Imported the {report.year} table: {report.addresses} addresses in {report.ranges} ranges"
            f" ({report.passed_over} lines of other municipalities passed over)."
        )
