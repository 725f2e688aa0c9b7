"""Validators for Open Referral's HSDS 3.0 object schemas (the files in ``hsds_schemas/`` are
``schema/*.json`` of openreferral/specification, branch 3.0, unchanged), JSON Schema draft 2020-12
with formats (uuid, email, uri, date-time) checked."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SCHEMAS = Path(__file__).parent / "hsds_schemas"
BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


@cache
def _schemas() -> dict[str, Any]:
    return {path.name: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}


def _retrieve(uri: str) -> Any:
    return _schemas()[uri.rsplit("/", 1)[-1]]


@cache
def validator(name: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(
        _schemas()[f"{name}.json"], retriever=_retrieve, base_uri=f"{BASE}{name}.json", validate_formats=True
    )


def errors(name: str, document: Any) -> list[str]:
    """What is wrong with ``document`` as an HSDS ``name`` object (empty when valid)."""
    return [f"{error.instance_path}: {error.message}" for error in validator(name).iter_errors(document)]
