"""Deny by default: every route enforces scopes, or is on the explicit public list with a reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Security, WebSocket
from starlette.applications import Starlette

from app.api.auth import Admin
from app.api.deps import caller
from app.api.public import PUBLIC_ROUTES
from app.security.principal import Principal
from tests.contract.routes import MOUNT, WEBSOCKET, Endpoint, endpoints, resolve, unsecured

SECURITY_SCHEME = "oauth2"


def describe(found: list[Endpoint]) -> str:
    return "\n".join(f"  {e.method} {e.path}" for e in found)


def test_every_route_enforces_a_scope_or_is_public(app: FastAPI) -> None:
    found = unsecured(app, PUBLIC_ROUTES)
    assert not found, (
        "These routes enforce no scope and are not in app/api/public.py PUBLIC_ROUTES. Declare "
        "a principal type of app.api.auth (e.g. `principal: CaseReader`), or add them to PUBLIC_ROUTES\n"
        "with a comment saying why:\n" + describe(found)
    )


def test_public_routes_exist_and_ask_for_no_scope(app: FastAPI) -> None:
    by_key = {e.key: e for e in endpoints(app)}
    stale = sorted(key for key in PUBLIC_ROUTES if key not in by_key)
    assert not stale, f"PUBLIC_ROUTES lists routes the app does not have: {stale}"
    contradictory = sorted(key for key in PUBLIC_ROUTES if by_key[key].scopes)
    assert not contradictory, f"Public routes that also demand scopes: {contradictory}"


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
    }


def test_the_served_document_lists_each_operations_scopes(app: FastAPI) -> None:
    operations = _operations(app.openapi())
    problems = []
    for endpoint in endpoints(app):
        operation = operations.get(endpoint.key)
        if operation is None:
            continue  # not in the schema (the docs pages, websockets, mounted apps)
        declared = {
            s for requirement in operation.get("security", []) for s in requirement.get(SECURITY_SCHEME, [])
        }
        if endpoint.key in PUBLIC_ROUTES:
            continue
        if not endpoint.scopes <= declared:
            enforced = sorted(endpoint.scopes)
            problems.append(
                f"{endpoint.method} {endpoint.path}: enforces {enforced}, documents {sorted(declared)}"
            )
    assert not problems, "\n".join(problems)


def test_every_secured_operation_in_the_document_documents_401_and_403(app: FastAPI) -> None:
    document = app.openapi()
    for key, operation in _operations(document).items():
        if key in PUBLIC_ROUTES:
            if not operation.get("security"):  # optional-token routes keep their 401
                assert "401" not in operation["responses"], key
            continue
        assert operation.get("security"), f"{key} is neither public nor secured in the document"
        responses = {s: resolve(document, r) for s, r in operation["responses"].items()}
        for status in ("401", "403"):
            assert "application/problem+json" in responses[status]["content"], (key, status)
        assert "WWW-Authenticate" in responses["401"]["headers"], key


def test_the_walk_finds_what_is_unsecured() -> None:
    """The checker itself: it must flag each way a route can end up without a scope."""
    sample = FastAPI()

    @sample.get("/scoped")
    async def scoped(principal: Admin) -> None:
        return None

    @sample.get("/token-only")
    async def token_only(principal: Annotated[Principal, Security(caller, scopes=[])]) -> None:
        return None  # a token but no scope: still not enough

    @sample.post("/open")
    async def open_route() -> None:
        return None

    @sample.get("/listed")
    async def listed() -> None:
        return None

    @sample.websocket("/socket")
    async def socket(websocket: WebSocket) -> None:
        await websocket.close()

    sample.mount("/mounted", Starlette())

    found = {e.key for e in unsecured(sample, frozenset({("GET", "/listed")}))}
    assert found >= {("GET", "/token-only"), ("POST", "/open"), (WEBSOCKET, "/socket"), (MOUNT, "/mounted")}
    assert ("GET", "/scoped") not in found and ("GET", "/listed") not in found
    scoped_endpoint = next(e for e in endpoints(sample) if e.path == "/scoped")
    assert scoped_endpoint.scopes == {"admin"}
