"""The contracts front-ends build on, generated from the code and committed under ``openapi/``.

* ``openapi_document(app)``: the OpenAPI document exactly as ``/openapi.json`` serves it.
* ``write_contracts(out_dir)``: writes every contract file deterministically (sorted keys, indent 2,
  trailing newline), so a diff in review shows what changed in the API.
* ``finish_openapi(app)``: the edits FastAPI cannot express per route, applied to the served document.

Regenerate with ``wijkwerk openapi export`` or ``python -m app.contract``; a test fails when the
committed files differ from what the app serves.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from app.api.problems import DOCUMENTED_PROBLEMS, problem_responses

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_DIR = ROOT / "openapi"
REGENERATE_COMMAND = ".venv/bin/python -m app.contract  (or: wijkwerk openapi export)"

PROBLEM_JSON = "application/problem+json"
_REQUEST_ID_HEADER = {
    "description": "The request's id, as in the logs; echoes a well-formed incoming X-Request-ID.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$"},
}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The served OpenAPI document (a copy, safe to change)."""
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return document


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def openapi_text(app: FastAPI) -> str:
    return render_json(openapi_document(app))


def graphql_sdl(app: FastAPI) -> str:
    """The SDL of the GraphQL schema the app serves at /graphql."""
    from app.graphql import served_sdl

    return served_sdl(app)


# File name -> renderer: the export, the CLI and the drift test pick up every entry.
CONTRACTS: dict[str, Callable[[FastAPI], str]] = {
    "openapi.json": openapi_text,
    "schema.graphql": graphql_sdl,
}


def contract_app() -> FastAPI:
    """An app built only to describe itself: no database is contacted (the lifespan never runs)."""
    from app.main import create_app
    from app.settings import Environment, Settings

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


# -- edits to the served document ------------------------------------------------------------------


def _problem_schema_under_problem_json(responses: dict[str, Any]) -> None:
    # FastAPI files a response ``model`` under application/json; errors are application/problem+json.
    for response in responses.values():
        content = response.get("content", {})
        if PROBLEM_JSON in content and "application/json" in content:
            schema = content.pop("application/json").get("schema")
            if schema is not None:
                content[PROBLEM_JSON]["schema"] = schema


def _component_name(status: int) -> str:
    return "".join(HTTPStatus(status).phrase.title().replace("-", " ").split())  # 404 -> NotFound


def _shared_problem_responses() -> dict[str, dict[str, Any]]:
    """The standard problem answers, as they read after the edits below, by status code."""
    shared = {}
    for status, entry in problem_responses(*DOCUMENTED_PROBLEMS).items():
        content = entry["content"][PROBLEM_JSON]
        shared[str(status)] = {
            "description": entry["description"],
            "content": {PROBLEM_JSON: {**content, "schema": {"$ref": "#/components/schemas/Problem"}}},
            "headers": {**entry.get("headers", {}), "X-Request-ID": _REQUEST_ID_HEADER},
        }
    return shared


_SHARED = _shared_problem_responses()


def _edit_operation(operation: dict[str, Any], used: set[str]) -> None:
    responses: dict[str, Any] = operation.get("responses", {})
    if not operation.get("security"):
        # A public operation never asks for a token, so it cannot answer 401 or 403.
        responses.pop("401", None)
        responses.pop("403", None)
    _problem_schema_under_problem_json(responses)
    for status, response in responses.items():
        if "$ref" in response:
            used.add(status)
            continue
        response.setdefault("headers", {}).setdefault("X-Request-ID", _REQUEST_ID_HEADER)
        if _SHARED.get(status) == response:
            # The same standard answer on every operation: described once under components.
            responses[status] = {"$ref": f"#/components/responses/{_component_name(int(status))}"}
            used.add(status)


def finish_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``) return the edited document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()  # cached by FastAPI until the routes change; the edits are idempotent
        used: set[str] = set()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict):
                    _edit_operation(operation, used)
        shared = document.setdefault("components", {}).setdefault("responses", {})
        for status in used & set(_SHARED):
            shared[_component_name(int(status))] = _SHARED[status]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else CONTRACT_DIR
    for path in write_contracts(out_dir):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
