"""What the OAuth endpoints share: reading the form (RFC 6749 §3.1), §5.2 errors, the token answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.base import OAuth2Error
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.api.problems import PROBLEM_RESPONSES
from app.settings import Settings

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM_BYTES = 16_384


class TokenResponse(BaseModel):
    access_token: str = Field(description="An RFC 9068 JWT access token.")
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(examples=[900])
    scope: str = Field(examples=["referrals:read referrals:write"])
    refresh_token: str | None = Field(
        default=None,
        description="Authorization code and refresh grants of people's apps only: single-use, rotated.",
    )


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 error response."""

    error: str = Field(examples=["invalid_grant"])
    error_description: str | None = None


# -- OpenAPI shapes of the token and revocation endpoints (form bodies FastAPI cannot infer) ---------

_CLIENT_AUTH_FIELDS: dict[str, Any] = {
    "client_id": {"type": "string", "description": "Public clients and private_key_jwt."},
    "client_assertion_type": {"type": "string"},
    "client_assertion": {"type": "string", "description": "private_key_jwt client assertion."},
}
TOKEN_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {
            "type": "string",
            "enum": ["client_credentials", "authorization_code", "refresh_token"],
        },
        "scope": {"type": "string", "description": "Space-separated scopes (default: all allowed)."},
        "code": {"type": "string"},
        "redirect_uri": {"type": "string"},
        "code_verifier": {"type": "string", "description": "PKCE verifier (S256)."},
        "refresh_token": {"type": "string", "description": "Single-use: the answer carries the next one."},
        **_CLIENT_AUTH_FIELDS,
    },
}
REVOKE_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": {"type": "string", "description": "A refresh token: its whole family is revoked."},
        "token_type_hint": {"type": "string", "enum": ["refresh_token", "access_token"]},
        **_CLIENT_AUTH_FIELDS,
    },
}
# One range entry for the RFC 6749 errors: 400, and 401 for invalid_client (with WWW-Authenticate:
# Basic). A plain "401" would read as a bearer-token challenge, which this public endpoint never sends.
OAUTH_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": OAuthErrorBody,
        "description": "RFC 6749 §5.2 error: 400, or 401 for invalid_client",
    },
    429: PROBLEM_RESPONSES[429],
}


def form_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


# -- reading the form and answering ---------------------------------------------------------------


class FormError(Exception):
    """A request body or query that cannot be read as OAuth parameters."""


def parameters(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """OAuth parameters: each at most once (RFC 6749 §3.1), no control characters."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise FormError("A parameter is repeated.")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name + value):
            raise FormError("A parameter contains control characters.")
        params[name] = value
    return params


async def read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError("The body must be application/x-www-form-urlencoded.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("The request body is too large.")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=64)
    except ValueError as error:
        raise FormError("The body is not valid form data.") from error
    return parameters(pairs)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def oauth_error(error: OAuth2Error) -> JSONResponse:
    status = 401 if error.error == "invalid_client" else int(error.status_code or 400)
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="wijkwerk"'
    body = {"error": error.error, "error_description": error.description}
    return JSONResponse(body, status_code=status, headers=headers)
