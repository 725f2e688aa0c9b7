"""Every error becomes ``application/problem+json`` (RFC 9457), here and nowhere else.

Bodies never carry submitted values: validation errors name the field and the rule only.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.strict import allowed_methods
from app.domain import errors as domain
from app.domain import text
from app.security.errors import AuthenticationFailed, InsufficientScope
from app.web.outage import is_database_unavailable

log = logging.getLogger("app.problems")

PROBLEM_JSON = "application/problem+json"


class ProblemFieldError(BaseModel):
    loc: list[str | int] = Field(description="Path to the field, e.g. ['body', 'members', 0, 'bsn'].")
    message: str
    rule: str = Field(description="Stable name of the broken rule, e.g. 'missing', 'bsn_checksum'.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:wijkwerk:problem:not_found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["The household was not found."])
    instance: str | None = None
    request_id: str | None = None
    errors: list[ProblemFieldError] | None = None


def problem_type(rule: str) -> str:
    return f"urn:wijkwerk:problem:{rule}"


def problem_response(
    request: Request,
    status: int,
    rule: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(rule),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


_DOMAIN_STATUS: list[tuple[type[domain.DomainError], int]] = [
    (domain.NotFound, 404),
    (domain.Forbidden, 403),
    (domain.Conflict, 409),
    (domain.PreconditionRequired, 428),
    (domain.PreconditionFailed, 412),
    (domain.ValidationFailed, 422),
    (domain.RateLimited, 429),
    (domain.ServiceUnavailable, 503),
]


def status_of(error: domain.DomainError) -> int:
    for kind, status in _DOMAIN_STATUS:
        if isinstance(error, kind):
            return status
    return 400


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, domain.DomainError)
    headers: dict[str, str] = {}
    if isinstance(error, domain.RateLimited | domain.ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    errors = None
    if isinstance(error, domain.ValidationFailed):
        errors = [{"loc": list(e.loc), "message": e.message, "rule": e.rule} for e in error.errors]
    return problem_response(
        request, status_of(error), error.rule, error.detail, errors=errors, headers=headers
    )


def _validation_entry(raw: dict[str, Any]) -> dict[str, Any]:
    # Only the location and the rule with its message: never raw["input"] or raw["ctx"].
    rule, message = text.describe(raw)
    return {"loc": list(raw.get("loc", ())), "message": message, "rule": rule}


async def _request_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [_validation_entry(e) for e in error.errors()]
    return problem_response(
        request, 422, "validation", "The request does not match the schema.", errors=errors
    )


_HTTP_RULES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "content_too_large",
    415: "unsupported_media_type",
}


async def _http_exception(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    rule = _HTTP_RULES.get(error.status_code, "http_error")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # Routing answers 405 from the first route whose path matched, naming that route's methods
        # only; the path may have more (GET on one route, POST on another).
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(request, error.status_code, rule, detail, headers=headers)


def _bearer_challenge(error: str | None, description: str, scope: str | None = None) -> str:
    parts = ['Bearer realm="wijkwerk"']
    if error:
        parts.append(f'error="{error}"')
        parts.append(f'error_description="{description}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return ", ".join(parts)


async def _authentication_failed(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AuthenticationFailed)
    headers = {"WWW-Authenticate": _bearer_challenge(error.error, error.detail)}
    return problem_response(request, 401, "unauthenticated", error.detail, headers=headers)


async def _insufficient_scope(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, InsufficientScope)
    scope = " ".join(error.required)
    headers = {"WWW-Authenticate": _bearer_challenge("insufficient_scope", error.detail, scope)}
    return problem_response(request, 403, "insufficient_scope", error.detail, headers=headers)


async def _unhandled(request: Request, error: Exception) -> JSONResponse:
    if is_database_unavailable(error):
        log.warning("database unavailable", extra={"error_type": type(error).__name__})
        # The same answer as GraphQL's during an outage (it raises this domain error).
        return await _domain_error(request, domain.ServiceUnavailable())
    # The traceback goes to the log (which holds no request data); the body says nothing of it.
    log.error("unhandled error", exc_info=error)
    return problem_response(request, 500, "internal_error", "An unexpected error occurred.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(domain.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(AuthenticationFailed, _authentication_failed)
    app.add_exception_handler(InsufficientScope, _insufficient_scope)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _unhandled)
    app.add_exception_handler(OSError, _unhandled)
    app.add_exception_handler(Exception, _unhandled)


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": 'RFC 6750 challenge, e.g. `Bearer realm="wijkwerk", error="invalid_token"`.',
        "required": True,
        "schema": {"type": "string"},
    }
}
_INSUFFICIENT_SCOPE = {
    "WWW-Authenticate": {
        "description": 'Sent when the token lacks a scope: `Bearer error="insufficient_scope", scope="..."`.',
        "schema": {"type": "string"},
    }
}

# (rule, detail, extra headers) per documented status: the examples match what the handlers send.
_DOCUMENTED: dict[int, tuple[str, str, dict[str, Any]]] = {
    400: ("http_error", "The request is malformed.", {}),
    401: ("unauthenticated", "A bearer token is required.", _WWW_AUTHENTICATE),
    403: ("insufficient_scope", "The access token lacks a required scope.", _INSUFFICIENT_SCOPE),
    404: ("not_found", "The household was not found.", {}),
    409: ("conflict", "The request conflicts with the current state.", {}),
    412: ("stale_version", "The object changed since you read it; read it again.", {}),
    413: ("content_too_large", "Request bodies are limited to 1048576 bytes.", {}),
    415: ("unsupported_media_type", "Send the request body as application/json.", {}),
    422: ("validation", "The request does not match the schema.", {}),
    428: ("if_match_required", "Send If-Match with the ETag you read.", {}),
    429: ("rate_limited", "Too many requests for this client; retry later.", _RETRY_AFTER),
    503: ("service_unavailable", "The database is not reachable; retry shortly.", _RETRY_AFTER),
}


DOCUMENTED_PROBLEMS = tuple(sorted(_DOCUMENTED))


def _example(status: int, rule: str, detail: str) -> dict[str, Any]:
    example: dict[str, Any] = {
        "type": problem_type(rule),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": "/api/v1/households/0b6f6a43-5d3a-4a57-9a53-5e0c2f0d9a11",
        "request_id": "3f1c2a9e8b7d4c6e9a0b1c2d3e4f5a6b",
    }
    if status == 422:
        example["errors"] = [
            {"loc": ["body", "members", 0, "bsn"], "message": "Invalid BSN", "rule": "bsn_checksum"}
        ]
    return example


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for these statuses, each a problem+json body with an example."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        rule, detail, headers = _DOCUMENTED[status]
        entry: dict[str, Any] = {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"example": _example(status, rule, detail)}},
        }
        if headers:
            entry["headers"] = headers
        responses[status] = entry
    return responses


# Every route of the app documents these (create_app passes them as the app's default responses).
DEFAULT_PROBLEM_RESPONSES = problem_responses(401, 403, 404, 422, 429, 503)

# Referenced from route declarations so every documented error shows the problem schema.
PROBLEM_RESPONSES = problem_responses(400, 401, 403, 404, 422, 429, 503)
