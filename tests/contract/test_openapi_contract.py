"""The committed contract is what the app serves, and the document is honest about errors."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.contract import CONTRACT_DIR, CONTRACTS, REGENERATE_COMMAND, openapi_document, write_contracts
from tests.contract.routes import resolve

# Operations whose errors are not problem+json by design: OAuth endpoints answer in RFC 6749 form,
# and /readyz answers 503 with its own small status document.
NOT_PROBLEM_JSON = ("/oauth/", "/.well-known/", "/readyz")


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_committed_contract_matches_the_app(app: FastAPI, name: str) -> None:
    committed_path = CONTRACT_DIR / name
    served = CONTRACTS[name](app)
    committed = committed_path.read_text(encoding="utf-8") if committed_path.exists() else ""
    if committed != served:
        diff = difflib.unified_diff(
            committed.splitlines(), served.splitlines(), f"committed {name}", f"served {name}", lineterm=""
        )
        excerpt = "\n".join(list(diff)[:60])
        pytest.fail(
            f"openapi/{name} differs from what the app serves. Regenerate it with:\n\n"
            f"    {REGENERATE_COMMAND}\n\nand commit the result. First lines of the diff:\n{excerpt}"
        )


async def test_openapi_json_route_serves_the_contract_document(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document(app)


def test_write_contracts_is_deterministic(tmp_path: Path, app: FastAPI) -> None:
    first = write_contracts(tmp_path / "one", app)
    second = write_contracts(tmp_path / "two")  # a separately built app, as the CLI does
    assert {p.name for p in first} == set(CONTRACTS)
    for one, two in zip(first, second, strict=True):
        text = one.read_text(encoding="utf-8")
        assert text == two.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n")
    document = json.loads((tmp_path / "one" / "openapi.json").read_text(encoding="utf-8"))
    assert list(document) == sorted(document)  # keys sorted, so diffs stay small


def _error_responses(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45":
                    found.append((method.upper(), path, status, resolve(document, response)))
    return found


def test_errors_are_documented_as_problem_json(app: FastAPI) -> None:
    wrong = []
    for method, path, status, response in _error_responses(openapi_document(app)):
        if path.startswith(NOT_PROBLEM_JSON):
            continue
        content = response.get("content", {})
        schema = content.get("application/problem+json", {}).get("schema", {})
        if set(content) != {"application/problem+json"} or "Problem" not in json.dumps(schema):
            wrong.append(f"{method} {path} {status}: {sorted(content)}")
    assert not wrong, "error responses that are not documented as problem+json:\n" + "\n".join(wrong)


def test_unavailable_and_rate_limited_document_retry_after(app: FastAPI) -> None:
    for method, path, status, response in _error_responses(openapi_document(app)):
        if status in ("429", "503") and not path.startswith(NOT_PROBLEM_JSON):
            assert response["headers"]["Retry-After"]["required"] is True, (method, path, status)


def test_every_response_documents_the_request_id_header(app: FastAPI) -> None:
    document = openapi_document(app)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                headers = resolve(document, response).get("headers", {})
                assert "X-Request-ID" in headers, (method, path, status)


def test_problem_schema_describes_what_the_handlers_send(app: FastAPI) -> None:
    problem = openapi_document(app)["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert {"errors", "request_id", "instance"} <= set(problem["properties"])


def _keywords(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _keywords(item)}
    if isinstance(value, list):
        return {k for item in value for k in _keywords(item)}
    return set()


def test_schemas_use_json_schema_keywords_only(app: FastAPI) -> None:
    # Pydantic writes a constraint it could not place into JSON Schema under its own name (``ge``
    # instead of ``minimum``), which no client or tool reads: the contract would not state it.
    schemas = openapi_document(app)["components"]["schemas"]
    assert not _keywords(schemas) & {"ge", "le", "gt", "lt", "multiple_of"}
