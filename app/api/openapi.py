"""The OpenAPI document: the edits FastAPI cannot express per route, and where it is published.

``finish_openapi(app)`` makes ``app.openapi()`` return the edited document of the whole service:

* problem answers under ``application/problem+json``, shared standard answers described once under
  ``components``, no 401/403 on public operations;
* the headers every answer carries (``X-Request-ID``, ``API-Version``) on every response;
* what the shared request mechanisms answer, on each operation that uses them: ``If-Match`` is
  required where it is taken (428 without, ``app.api.concurrency``), an ``Idempotency-Key``
  operation may answer 409 (``app.api.idempotency``), a JSON body may answer 415
  (``app.api.strict``);
* links from a 201 to the operations on the object it created (for clients and stateful tests);
* ``servers``: the service's public URL in production (https, checked by the settings), else
  relative to where the document is served.

``versioned_document(document)`` is the contract of API version 1 alone, as NL GOV API Design Rules
want it (/core/uri-version, /core/publish-openapi): its paths relative to the ``/api/v1`` server.
``publish_openapi(app)`` serves both, to any origin (CORS ``*``): ``/openapi.json`` and
``/api/v1/openapi.json``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.api.problems import DOCUMENTED_PROBLEMS, PROBLEM_JSON, problem_responses

# The API's semantic version (https://semver.org), in `info.version` and in every answer's
# API-Version header. docs/changelog.md says what each version changed; a breaking change is a
# new major version under a new base path (/api/v2).
API_VERSION = "1.1.0"
API_BASE_PATH = "/api/v1"

_REQUEST_ID_HEADER = {
    "description": "The request's id, as in the logs; echoes a well-formed incoming X-Request-ID.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$"},
}
SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_API_VERSION_HEADER = {
    "description": "The full version of the API that answered (semantic versioning).",
    "required": True,
    "schema": {"type": "string", "pattern": SEMVER, "examples": [API_VERSION]},
}
# Every answer, whatever answered it (app.web.headers sets them on the way out): described once
# under components.headers, referred to from every response.
_HEADER_COMPONENTS = {"RequestId": _REQUEST_ID_HEADER, "ApiVersion": _API_VERSION_HEADER}
_EVERY_ANSWER_HEADERS = {
    "X-Request-ID": {"$ref": "#/components/headers/RequestId"},
    "API-Version": {"$ref": "#/components/headers/ApiVersion"},
}

# The header that names what a 415 would have taken, per method (RFC 5789 for PATCH, the W3C LDP
# registration for POST); other methods name it in Accept.
_ACCEPT_HEADER = {"post": "Accept-Post", "patch": "Accept-Patch"}


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
            "headers": {**entry.get("headers", {}), **_EVERY_ANSWER_HEADERS},
        }
    return shared


_SHARED = _shared_problem_responses()


def _unsupported_media_type(method: str) -> dict[str, Any]:
    header = _ACCEPT_HEADER.get(method, "Accept")
    entry = problem_responses(415)[415]
    content = entry["content"][PROBLEM_JSON]
    return {
        "description": f"{entry['description']}: the body is not JSON; {header} names what is taken.",
        "content": {PROBLEM_JSON: {**content, "schema": {"$ref": "#/components/schemas/Problem"}}},
        "headers": {
            header: {
                "description": "The media type the request body must have.",
                "required": True,
                "schema": {"type": "string", "enum": ["application/json"]},
            },
            **_EVERY_ANSWER_HEADERS,
        },
    }


def _parameters(operation: dict[str, Any], location: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == location}


def _add_mechanism_answers(method: str, operation: dict[str, Any]) -> None:
    """What the shared request mechanisms answer on the operations that use them."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    headers = _parameters(operation, "header")
    if_match = headers.get("If-Match")
    if if_match is not None:
        # app.api.concurrency: the services answer 428 without it, so it is required; any value is
        # taken (one that names no current version is 412).
        if_match["required"] = True
        if_match["schema"] = {"type": "string"}
        for status in ("412", "428"):
            responses.setdefault(status, copy.deepcopy(_SHARED[status]))
    if "Idempotency-Key" in headers:
        # app.api.idempotency: a second request with the key while the first still runs.
        responses.setdefault("409", copy.deepcopy(_SHARED["409"]))
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        responses["415"] = _unsupported_media_type(method)  # app.api.strict


def _edit_operation(method: str, operation: dict[str, Any], used: set[str]) -> None:
    _add_mechanism_answers(method, operation)
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
        found = response.setdefault("headers", {})
        for name, header in _EVERY_ANSWER_HEADERS.items():
            found.setdefault(name, header)
        if _SHARED.get(status) == response:
            # The same standard answer on every operation: described once under components.
            responses[status] = {"$ref": f"#/components/responses/{_component_name(int(status))}"}
            used.add(status)


# -- links -----------------------------------------------------------------------------------------

_PARAMETER = re.compile(r"{([^}]+)}")


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def _add_links(document: dict[str, Any]) -> None:
    """A 201 answer links to every operation on the object it created: ``<collection>/{id}``, the
    new id from the answer's ``id``, the other path parameters from the request's path."""
    for path, method, operation in _operations(document):
        created = operation["responses"].get("201")
        if method != "post" or created is None:
            continue
        known = set(_PARAMETER.findall(path))
        links = {}
        for target_path, target_method, target in _operations(document):
            parent, _, last = target_path.rpartition("/")
            if parent != path or not _PARAMETER.fullmatch(last) or "operationId" not in target:
                continue
            values = {
                name: f"$request.path.{name}" if name in known else "$response.body#/id"
                for name in _PARAMETER.findall(target_path)
            }
            links[target["operationId"]] = {
                "operationId": target["operationId"],
                "parameters": values,
                "description": f"{target_method.upper()} the object this request created.",
            }
        if links:
            created["links"] = links


# -- the documents ----------------------------------------------------------------------------------


def finish_openapi(app: FastAPI, *, public_url: str | None = None) -> None:
    """Make ``app.openapi()`` return the edited document. ``public_url`` (the service's https base
    in production) makes the server URLs absolute; without it they are relative."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()  # cached by FastAPI until the routes change; the edits are idempotent
        used: set[str] = set()
        for _, method, operation in _operations(document):
            _edit_operation(method, operation, used)
        _add_links(document)
        components = document.setdefault("components", {})
        shared = components.setdefault("responses", {})
        for status in used & set(_SHARED):
            shared[_component_name(int(status))] = _SHARED[status]
        components["headers"] = _HEADER_COMPONENTS
        document["servers"] = [{"url": public_url or "/", "description": "This service."}]
        return document

    # FastAPI's documented way to extend the document ("Extending OpenAPI"): replace the method.
    app.openapi = openapi  # type: ignore[method-assign]


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _reachable_components(document: dict[str, Any], start: Any) -> dict[str, Any]:
    """The components ``start`` refers to, directly or through other components."""
    components = document.get("components", {})
    kept: dict[str, dict[str, Any]] = {}
    pending = list(_references(start))
    while pending:
        reference = pending.pop()
        _, section, name = reference.removeprefix("#/").split("/", 2)
        if name in kept.setdefault(section, {}):
            continue
        kept[section][name] = components[section][name]
        pending += _references(components[section][name])
    if "securitySchemes" in components:
        kept["securitySchemes"] = components["securitySchemes"]
    return {section: dict(sorted(items.items())) for section, items in sorted(kept.items())}


def versioned_document(document: dict[str, Any], base_path: str = API_BASE_PATH) -> dict[str, Any]:
    """The contract of the API under ``base_path`` alone: its paths relative to a server URL that
    ends in the major version (NL GOV API Design Rules /core/uri-version), on the whole document's
    server."""
    paths = {
        path.removeprefix(base_path): copy.deepcopy(item)
        for path, item in document.get("paths", {}).items()
        if path.startswith(base_path + "/")
    }
    versioned = {
        key: copy.deepcopy(value) for key, value in document.items() if key not in ("paths", "components")
    }
    versioned["paths"] = paths
    versioned["components"] = _reachable_components(document, paths)
    service = document.get("servers", [{"url": "/"}])[0]["url"].rstrip("/")
    major = base_path.rsplit("/v", 1)[-1]
    versioned["servers"] = [{"url": service + base_path, "description": f"Wijkwerk API version {major}."}]
    return versioned


def _published(document: dict[str, Any]) -> JSONResponse:
    # NL GOV API Design Rules /core/publish-openapi: anyone may read the contract, from any origin.
    return JSONResponse(document, headers={"Access-Control-Allow-Origin": "*"})


def publish_openapi(app: FastAPI) -> None:
    """Serve the whole document at ``/openapi.json`` and version 1's at ``/api/v1/openapi.json``."""
    versioned: dict[str, Any] = {}

    async def whole(request: Request) -> JSONResponse:
        return _published(request.app.openapi())

    async def version_1(request: Request) -> JSONResponse:
        if not versioned:
            versioned.update(versioned_document(request.app.openapi()))
        return _published(versioned)

    app.add_route("/openapi.json", whole, methods=["GET"], include_in_schema=False)
    app.add_route(f"{API_BASE_PATH}/openapi.json", version_1, methods=["GET"], include_in_schema=False)
