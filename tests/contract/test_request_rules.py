"""What every REST operation refuses, the same way everywhere (app/api/strict.py): an undeclared query
parameter (422), a body that is not JSON (415), a method the path does not have (405, with an Allow
header naming every method the path has)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.convertors import UUIDConvertor

from app.contract import openapi_document
from tests.contract.conftest import ROLE_ACTORS
from tests.contract.support import role_for

SECRET_FILTER = "Jansen-0612345678"  # a value that must never come back in an answer


async def test_an_unknown_query_parameter_is_refused_not_ignored(
    client: httpx.AsyncClient, world: Any
) -> None:
    headers = await world.headers("privacy_officer")
    response = await client.get("/api/v1/audit", params={"household_id": SECRET_FILTER}, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"] == [
        {
            "loc": ["query", "household_id"],
            "message": problem["errors"][0]["message"],
            "rule": "unknown_parameter",
        }
    ]
    assert SECRET_FILTER not in response.text


async def test_declared_query_parameters_still_pass(client: httpx.AsyncClient, world: Any) -> None:
    headers = await world.headers("privacy_officer")
    response = await client.get("/api/v1/audit", params={"limit": 5, "outcome": "denied"}, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_key_that_is_free_text_is_not_echoed(client: httpx.AsyncClient, world: Any) -> None:
    headers = await world.headers("generalist_a")
    key = "jan.jansen@example.org and more"
    response = await client.get("/api/v1/households", params={key: "1"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query"]
    assert "jansen" not in response.text


async def test_every_operation_refuses_an_unknown_parameter(
    client: httpx.AsyncClient, world: Any, app: FastAPI
) -> None:
    # Each operation with the token of a role that may call it (the check follows the scope check),
    # on a path of made-up ids: the unknown parameter is named before any object is looked up.
    document = openapi_document(app)
    wrong = []
    for path, item in document["paths"].items():
        if path.startswith(("/oauth/", "/.well-known/")):
            continue  # the OAuth server's endpoints: RFC 6749 §3.1 has them ignore unknown parameters
        for method in item:
            headers = await world.headers(ROLE_ACTORS[role_for(document, path, method)])
            concrete = re.sub(r"{[^}]+}", lambda _: str(uuid.uuid4()), path)
            response = await client.request(method, concrete, params={"no_such_filter": "x"}, headers=headers)
            rules = (
                [e["rule"] for e in response.json().get("errors") or []]
                if response.status_code == 422
                else []
            )
            if rules != ["unknown_parameter"]:
                wrong.append(f"{method.upper()} {path}: {response.status_code}")
    assert not wrong, wrong


async def test_a_caller_without_the_scope_hears_that_first(client: httpx.AsyncClient, world: Any) -> None:
    headers = await world.headers("analyst")
    response = await client.get("/api/v1/audit", params={"household_id": "x"}, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"status": "active"}'),
        ("application/x-www-form-urlencoded", b"status=active"),
        (None, b"{}"),
    ],
)
async def test_a_json_operation_sent_another_media_type_answers_415(
    client: httpx.AsyncClient, world: Any, content_type: str | None, body: bytes
) -> None:
    headers = await world.headers("generalist_a")
    if content_type is not None:
        headers["Content-Type"] = content_type
    # httpx sends no Content-Type with raw content unless told to
    response = await client.post("/api/v1/households/search", content=body, headers=headers)
    assert response.status_code == 415, response.text
    assert response.headers["Accept-Post"] == "application/json"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:wijkwerk:problem:unsupported_media_type"


async def test_a_patch_sent_a_form_names_what_it_takes(client: httpx.AsyncClient, world: Any) -> None:
    headers = {**await world.headers("generalist_a"), "If-Match": '"x.1"'}
    response = await client.patch(
        f"/api/v1/households/{uuid.uuid4()}", data={"status": "closed"}, headers=headers
    )
    assert response.status_code == 415
    assert response.headers["Accept-Patch"] == "application/json"


async def test_json_with_a_suffix_or_charset_is_taken(client: httpx.AsyncClient, world: Any) -> None:
    headers = {**await world.headers("generalist_a"), "Content-Type": "application/json; charset=utf-8"}
    response = await client.post(
        "/api/v1/households/search", content=b'{"reference": "HH-1"}', headers=headers
    )
    assert response.status_code != 415


async def test_the_oauth_token_endpoint_keeps_taking_forms(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code in {400, 401}  # an OAuth error about the client, not a media type


def test_the_contract_documents_415_on_every_json_body(app: FastAPI) -> None:
    document = openapi_document(app)
    missing = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
        and "415" not in operation["responses"]
    ]
    assert not missing, missing


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/areas", "GET, HEAD, POST"),
        ("PUT", "/api/v1/households/{id}", "GET, HEAD, PATCH"),
        ("PATCH", "/api/v1/households/search", "POST"),
        ("DELETE", "/api/v1/households/{id}/assessments/latest", "GET, HEAD"),
        ("POST", "/api/v1/households/{id}/overview", "GET, HEAD"),
    ],
)
async def test_405_names_every_method_of_the_path(
    client: httpx.AsyncClient, world: Any, method: str, path: str, allowed: str
) -> None:
    headers = await world.headers("admin")
    response = await client.request(method, path.replace("{id}", str(uuid.uuid4())), headers=headers)
    assert response.status_code == 405, response.text
    assert response.headers["Allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_path_parameter_that_is_no_id_names_no_resource(
    client: httpx.AsyncClient, world: Any
) -> None:
    headers = await world.headers("generalist_a")
    response = await client.get("/api/v1/households/not-an-id", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def _path_params(dependant: Dependant) -> list[Any]:
    return [*dependant.path_params, *(p for sub in dependant.dependencies for p in _path_params(sub))]


def test_every_id_in_a_path_is_matched_as_an_id(app: FastAPI) -> None:
    # Routing takes an id segment only when it is a UUID, so a literal path next to an id
    # (/households/search beside /households/{household_id}) is never read as an id.
    loose = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for param in _path_params(route.dependant):
            convertor = route.param_convertors.get(param.name)
            if param.field_info.annotation is uuid.UUID and not isinstance(convertor, UUIDConvertor):
                loose.append(f"{context.path_format} {param.name}")
    assert not loose, loose
