"""``wijkwerk directory``: the sociale kaart in and out as Open Referral HSDS 3.0 (``docs/directory.md``).

``export`` writes the published services (public ones) as fully nested HSDS services: a JSON array,
one service per line, in id order; with ``--csv DIR`` the HSDS tabular form instead (one CSV per HSDS
table). ``import`` reads either back, record by record, into one municipality's directory: all or
nothing, idempotent by HSDS id. Exporting what was imported gives the same bytes again.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TextIO

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from app.bootstrap import wiring
from app.cli_support import command_group, err, labelled, load_settings, out, run_with_db
from app.db import Database
from app.domain.directory import exchange, tabular
from app.domain.unit_of_work.work import unit_of_work

directory_app = command_group(help="The sociale kaart: import and export as HSDS 3.0 (JSON or tabular CSV).")

CHUNK = 64 * 1024  # characters read at a time (the progress bar moves per chunk)


def _chunks(handle: BinaryIO, progress: Progress, task: TaskID) -> Iterator[str]:
    """The file as text, a chunk at a time (UTF-8, a byte-order mark allowed), moving the bar by the
    bytes read."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="strict")
    while chunk := text.read(CHUNK):
        progress.update(task, completed=handle.tell())
        yield chunk


def _bar(label: str, *columns: Any) -> Progress:
    return Progress(TextColumn(label), BarColumn(), *columns, TimeElapsedColumn(), console=err)


@directory_app.command("import")
def import_directory(
    source: Annotated[
        Path,
        typer.Argument(
            exists=True,
            readable=True,
            help="An HSDS JSON file (array or NDJSON), or a directory of HSDS CSVs.",
        ),
    ],
    municipality: Annotated[
        str, typer.Option(help="The municipality whose sociale kaart takes the services (CBS code, GM0363).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Import HSDS 3.0 services: each record is checked against the HSDS schema and Wijkwerk's rules;
    nothing is written unless every record is right, and importing the same file again changes
    nothing."""
    settings = load_settings()

    async def work(db: Database) -> exchange.ImportReport | exchange.DirectoryImportRefused:
        try:
            async with unit_of_work(db, wiring()) as uow:
                if source.is_dir():
                    with _bar("Importing services", MofNCompleteColumn()) as progress:
                        task = progress.add_task("", total=tabular.count_services(source))
                        return await exchange.import_services(
                            uow,
                            tabular.read_services(source),
                            municipality=municipality,
                            on_record=lambda n: progress.update(task, completed=n),
                        )
                with source.open("rb") as handle, _bar("Importing services", DownloadColumn()) as progress:
                    task = progress.add_task("", total=source.stat().st_size)
                    records = exchange.json_records(_chunks(handle, progress, task))
                    return await exchange.import_services(uow, records, municipality=municipality)
        except exchange.DirectoryImportRefused as refused:
            return refused

    try:
        report = run_with_db(settings, work)
    except (ValueError, UnicodeDecodeError) as error:  # not JSON, not UTF-8: the file, not a record
        err.print(labelled("refused", "red", f"The file is not HSDS JSON or CSV ({type(error).__name__})."))
        raise typer.Exit(1) from error
    if isinstance(report, exchange.DirectoryImportRefused):
        _print_refusal(report)
        raise typer.Exit(1)
    _print_report(report, as_json)


def _print_refusal(refused: exchange.DirectoryImportRefused) -> None:
    err.print(labelled("refused", "red", refused.detail))
    for problem in refused.problems:
        err.print(f"  record {problem.record}: {problem.field or '(the record)'} ({problem.rule})")
    if refused.total > len(refused.problems):
        err.print(f"  ... and {refused.total - len(refused.problems)} more")


def _print_report(report: exchange.ImportReport, as_json: bool) -> None:
    result = {
        "records": report.records,
        "created": report.created,
        "changed": report.changed,
        "unchanged": report.unchanged,
    }
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(
            f"Imported {report.records} services: {report.created} new, {report.changed} changed,"
            f" {report.unchanged} unchanged."
        )


@directory_app.command("export")
def export_directory(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON here (default: standard output).")
    ] = None,
    csv: Annotated[
        Path | None,
        typer.Option(
            "--csv", file_okay=False, help="Write the HSDS tabular form (CSV files) into this directory."
        ),
    ] = None,
    municipality: Annotated[
        str | None, typer.Option(help="Only this municipality's sociale kaart (CBS code, GM0363).")
    ] = None,
) -> None:
    """Export the published (public) services as HSDS 3.0: fully nested services in a JSON array, or
    with ``--csv`` one CSV file per HSDS table and a datapackage.json."""
    settings = load_settings()

    async def work(db: Database) -> int:
        async with db.transaction() as session:
            # One snapshot for the whole export, however many batches it reads.
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            with _bar("Exporting services", MofNCompleteColumn()) as progress:
                task = progress.add_task("", total=await exchange.count_published(session, municipality))
                documents = exchange.published_services(session, municipality)
                if csv is not None:
                    with tabular.TableWriter(csv) as tables:
                        async for document in documents:
                            tables.write(document)
                            progress.advance(task)
                    return tables.count
                if output is None:
                    return await _write_json(sys.stdout, documents, lambda: progress.advance(task))
                with output.open("w", encoding="utf-8", newline="\n") as handle:
                    return await _write_json(handle, documents, lambda: progress.advance(task))

    written = run_with_db(settings, work)
    err.print(f"Exported {written} services.")


async def _write_json(handle: TextIO, documents: Any, on_record: Any) -> int:
    """A JSON array of the documents, one per line: streamed, never held whole."""
    count = 0
    handle.write("[")
    async for document in documents:
        handle.write(("\n" if count == 0 else ",\n") + exchange.json_lines(document))
        count += 1
        on_record()
    handle.write("\n]\n" if count else "]\n")
    return count
