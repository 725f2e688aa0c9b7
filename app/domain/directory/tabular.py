"""HSDS 3.0's tabular form: one CSV file per HSDS table (``services.csv``, ``organizations.csv``,
``service_at_location.csv``, ``locations.csv``, ``addresses.csv``, ...), each with the scalar fields of
its object schema as columns, in the schema's order, and a ``datapackage.json`` describing them (the
specification's Frictionless data package). Files and columns come from the vendored schemas
(``hsds_schema.table_file`` / ``table_columns``), so they are the specification's own.

Writing streams: rows go out as the services come in; only the ids of organisations, locations and
taxonomy terms already written are kept (each is written once). Reading streams ``services.csv``; the
other tables are indexed by the id that links them to a service (they hold the few rows per service of
phones, hours, areas, locations), so a service is put together from them as it is read.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from app.domain.directory.hsds_schema import schemas, table_columns, table_file

Json = dict[str, Any]

# The tables the export writes, in the datapackage's order.
TABLES = (
    "organization",
    "service",
    "phone",
    "schedule",
    "service_area",
    "language",
    "cost_option",
    "taxonomy",
    "taxonomy_term",
    "attribute",
    "location",
    "address",
    "service_at_location",
)
SHARED = frozenset({"organization", "taxonomy", "taxonomy_term", "location", "address"})  # once each
OWN = {"phone": "phones", "schedule": "schedules", "service_area": "service_areas"} | {
    "language": "languages",
    "cost_option": "cost_options",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value(kind: str, text: str) -> Any:
    """A CSV cell as the JSON value its schema type says (empty: no value)."""
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text) if any(c in text for c in ".eE") else int(text)
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("a boolean cell holds true or false")
        return text == "true"
    return text


def _rows_of(document: Json) -> Iterator[tuple[str, Json]]:
    """(table, object) for every row one fully nested service puts in the tables."""
    yield "organization", document["organization"]
    yield "service", document
    for table, key in OWN.items():
        for item in document.get(key, []):
            yield table, item
    for attribute in document.get("attributes", []):
        term = attribute["taxonomy_term"]
        yield "taxonomy", term["taxonomy_detail"]
        yield "taxonomy_term", term
        yield "attribute", attribute
    for link in document.get("service_at_locations", []):
        yield "location", link["location"]
        for address in link["location"].get("addresses", []):
            yield "address", address
        yield "service_at_location", link


def datapackage() -> Json:
    """The data package that describes the files (Frictionless tabular data package)."""
    resources = []
    for table in TABLES:
        properties = schemas()[table]["properties"]
        fields = [{"name": c, "type": properties[c]["type"]} for c in table_columns(table)]
        resources.append(
            {
                "name": table,
                "path": table_file(table),
                "profile": "tabular-data-resource",
                "schema": {"fields": fields, "primaryKey": "id"},
            }
        )
    return {"name": "wijkwerk-sociale-kaart", "profile": "tabular-data-package", "resources": resources}


class TableWriter:
    """Writes services into a folder as HSDS CSV files, one service at a time (a context manager:
    the files are open while it is; the datapackage is written when it closes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self._written: set[tuple[str, str]] = set()
        self._files = ExitStack()
        self._writers: dict[str, csv.DictWriter[str]] = {}

    def __enter__(self) -> TableWriter:
        self.folder.mkdir(parents=True, exist_ok=True)
        for table in TABLES:
            path = self.folder / table_file(table)
            handle = self._files.enter_context(path.open("w", encoding="utf-8", newline=""))
            writer = csv.DictWriter(handle, table_columns(table), extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            self._writers[table] = writer
        return self

    def write(self, document: Json) -> None:
        for table, item in _rows_of(document):
            if table in SHARED:
                if (table, item["id"]) in self._written:
                    continue
                self._written.add((table, item["id"]))
            self._writers[table].writerow({k: _text(v) for k, v in item.items()})
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        self._files.close()
        package = json.dumps(datapackage(), indent=2) + "\n"
        (self.folder / "datapackage.json").write_text(package, encoding="utf-8")


# -- reading ---------------------------------------------------------------------------------------


def _read(folder: Path, table: str) -> Iterator[Json]:
    """The table's rows as HSDS objects (cells typed by the schema; empty cells left out). A missing
    file is an empty table: the specification's tables are all optional but ``services.csv``."""
    path = folder / table_file(table)
    if not path.exists():
        return
    kinds = {c: schemas()[table]["properties"][c]["type"] for c in table_columns(table)}
    # An empty cell is no value, except in a required text column: there it is the empty text.
    required = {c for c in schemas()[table].get("required", []) if kinds.get(c) == "string"}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {
                k: _value(kinds[k], v)
                for k, v in row.items()
                if k in kinds and v is not None and (v != "" or k in required)
            }


def _by(folder: Path, table: str, key: str) -> dict[str, list[Json]]:
    index: dict[str, list[Json]] = defaultdict(list)
    for row in _read(folder, table):
        index[str(row.get(key, ""))].append(row)
    return index


def count_services(folder: Path) -> int:
    path = folder / table_file("service")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def read_services(folder: Path) -> Iterator[Json]:
    """The fully nested services the tables hold, in the order of ``services.csv``."""
    organizations = {row["id"]: row for row in _read(folder, "organization")}
    locations = {row["id"]: row for row in _read(folder, "location")}
    addresses = _by(folder, "address", "location_id")
    taxonomies = {row["id"]: row for row in _read(folder, "taxonomy")}
    terms = {row["id"]: row for row in _read(folder, "taxonomy_term")}
    own = {key: _by(folder, table, "service_id") for table, key in OWN.items()}
    attributes = _by(folder, "attribute", "link_id")
    links = _by(folder, "service_at_location", "service_id")
    for service in _read(folder, "service"):
        service_id = service["id"]
        document = dict(service)
        if service.get("organization_id") in organizations:
            document["organization"] = organizations[service["organization_id"]]
        for key, index in own.items():
            document[key] = index.get(service_id, [])
        document["attributes"] = [
            _with_term(attribute, terms, taxonomies) for attribute in attributes.get(service_id, [])
        ]
        document["service_at_locations"] = [
            _with_location(link, locations, addresses, document["schedules"])
            for link in links.get(service_id, [])
        ]
        yield document


def _with_term(attribute: Json, terms: dict[str, Json], taxonomies: dict[str, Json]) -> Json:
    term = terms.get(attribute.get("taxonomy_term_id", ""))
    if term is None:
        return attribute
    detail = taxonomies.get(term.get("taxonomy_id", ""))
    return attribute | {"taxonomy_term": term | ({"taxonomy_detail": detail} if detail else {})}


def _with_location(
    link: Json, locations: dict[str, Json], addresses: dict[str, list[Json]], schedules: list[Json]
) -> Json:
    location_id = link.get("location_id", "")
    place = locations.get(location_id)
    nested = link | {"schedules": [s for s in schedules if s.get("location_id") == location_id]}
    if place is not None:
        nested["location"] = place | {"addresses": addresses.get(location_id, [])}
    return nested
