"""Open Referral's HSDS 3.0 object schemas (``hsds_schemas/`` holds ``schema/*.json`` of
openreferral/specification, branch 3.0, unchanged): JSON Schema draft 2020-12, formats (uuid, email,
uri, date-time) checked. The import validates every record with them; the tests validate what the
publication and the export write.

Problems are told by where and which rule (``services.0.id``, ``format``), never with the value: the
validator's own messages quote the data, and an import's report must not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SCHEMAS = Path(__file__).parent / "hsds_schemas"
BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
SCALARS = frozenset({"string", "number", "integer", "boolean"})


@cache
def schemas() -> dict[str, Any]:
    """Every HSDS object schema by its name (``service``, ``location``, ...)."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(SCHEMAS.glob("*.json"))}


def _retrieve(uri: str) -> Any:
    return schemas()[uri.rsplit("/", 1)[-1].removesuffix(".json")]


@cache
def validator(name: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(
        schemas()[name], retriever=_retrieve, base_uri=f"{BASE}{name}.json", validate_formats=True
    )


@dataclass(frozen=True)
class Problem:
    """What is wrong with a document: the path of the field and the rule it breaks."""

    path: tuple[str | int, ...]
    rule: str

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.path)


def problems(name: str, document: Any) -> list[Problem]:
    """What is wrong with ``document`` as an HSDS ``name`` object (empty when valid), without its data."""
    found = []
    for error in validator(name).iter_errors(document):
        path = tuple(error.instance_path)
        if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
            path += (str(error.kind.property),)
        found.append(Problem(path, error.kind.name))
    return found


def errors(name: str, document: Any) -> list[str]:
    """The validator's own messages (they quote the data: for tests, never for a report)."""
    return [f"{error.instance_path}: {error.message}" for error in validator(name).iter_errors(document)]


def table_columns(name: str) -> list[str]:
    """The columns of the object's table in HSDS's tabular (CSV) form: its scalar fields, in the
    schema's order."""
    properties = schemas()[name]["properties"]
    return [key for key, field in properties.items() if field.get("type") in SCALARS]


def table_file(name: str) -> str:
    """The object's CSV file name in the tabular form (the schema's ``path``)."""
    path: str = schemas()[name]["path"]
    return path
