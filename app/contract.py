"""The contracts front-ends build on, generated from the code and committed under ``openapi/``.

* ``openapi_document(app)``: the OpenAPI document exactly as ``/openapi.json`` serves it, and
  ``versioned_openapi_document(app)`` the contract of API version 1 alone, as
  ``/api/v1/openapi.json`` serves it (paths relative to the ``/api/v1`` server).
* ``write_contracts(out_dir)``: writes every contract file deterministically (sorted keys, indent 2,
  trailing newline), so a diff in review shows what changed in the API.

Regenerate with ``wijkwerk openapi export`` or ``python -m app.contract``; a test fails when the
committed files differ from what the app serves.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from app.api.openapi import versioned_document
from app.graphql import served_sdl
from app.main import create_app
from app.settings import Environment, Settings

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_DIR = ROOT / "openapi"
REGENERATE_COMMAND = ".venv/bin/python -m app.contract  (or: wijkwerk openapi export)"


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The served OpenAPI document (a copy, safe to change)."""
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return document


def versioned_openapi_document(app: FastAPI) -> dict[str, Any]:
    """The served contract of API version 1 (a copy, safe to change)."""
    return versioned_document(openapi_document(app))


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def openapi_text(app: FastAPI) -> str:
    return render_json(openapi_document(app))


def versioned_openapi_text(app: FastAPI) -> str:
    return render_json(versioned_openapi_document(app))


def graphql_sdl(app: FastAPI) -> str:
    """The SDL of the GraphQL schema the app serves at /graphql."""
    return served_sdl(app)


# File name -> renderer: the export, the CLI and the drift test pick up every entry.
CONTRACTS: dict[str, Callable[[FastAPI], str]] = {
    "openapi.json": openapi_text,
    "openapi-v1.json": versioned_openapi_text,
    "schema.graphql": graphql_sdl,
}


def contract_app() -> FastAPI:
    """An app built only to describe itself: no database is contacted (the lifespan never runs)."""
    settings = Settings(environment=Environment.development, database_url="postgresql://contract@localhost/x")
    return create_app(settings)


def write_contracts(out_dir: Path = CONTRACT_DIR, app: FastAPI | None = None) -> list[Path]:
    """Write every contract file into ``out_dir``; returns the paths written."""
    app = app or contract_app()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, render in CONTRACTS.items():
        path = out_dir / name
        path.write_text(render(app), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else CONTRACT_DIR
    for path in write_contracts(out_dir):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
