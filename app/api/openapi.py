"""The edits to the served OpenAPI document that FastAPI cannot express per route.

``finish_openapi(app)`` makes ``app.openapi()`` (and so ``/openapi.json``) answer the edited document:
problem answers under ``application/problem+json``, shared standard answers described once under
``components``, the ``X-Request-ID`` header on every answer, no 401/403 on public operations.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from app.api.problems import DOCUMENTED_PROBLEMS, PROBLEM_JSON, problem_responses

_REQUEST_ID_HEADER = {
    "description": "The request's id, as in the logs; echoes a well-formed incoming X-Request-ID.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$"},
}


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

    # FastAPI's documented way to extend the document ("Extending OpenAPI"): replace the method.
    app.openapi = openapi  # type: ignore[method-assign]
