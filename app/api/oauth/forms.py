"""What the OAuth endpoints share: reading the form (RFC 6749 §3.1), §5.2 errors, the token answer."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from fastapi import Request
from fastapi.responses import JSONResponse
from joserfc import jws
from joserfc.errors import JoseError
from pydantic import BaseModel, Field

from app.api.problems import PROBLEM_RESPONSES
from app.domain.identity.clients import JWT_BEARER_ASSERTION, PresentedCredentials, invalid_client
from app.domain.identity.models import ClientAuthMethod
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


# -- client credentials as presented (RFC 6749 §2.3, RFC 7523 §2.2) ---------------------------------


def presented_credentials(form: dict[str, str], authorization: str | None) -> PresentedCredentials:
    """Which method the client used, and the client id it claims (exactly one method allowed)."""
    has_assertion = "client_assertion" in form or "client_assertion_type" in form
    if "client_secret" in form:
        raise invalid_client("client_secret_post is not supported; use HTTP Basic.")
    if authorization and authorization.lower().startswith("basic "):
        if has_assertion:
            raise InvalidRequestError(description="Use exactly one client authentication method.")
        client_id, secret = _basic(authorization[6:])
        if form.get("client_id", client_id) != client_id:
            raise invalid_client("The client_id does not match the authenticated client.")
        return PresentedCredentials(ClientAuthMethod.client_secret_basic, client_id, secret=secret)
    if has_assertion:
        return _assertion_credentials(form)
    public_id = form.get("client_id")
    if not public_id:
        raise invalid_client("Client authentication is required.")
    return PresentedCredentials(ClientAuthMethod.none, public_id)


def _basic(encoded: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise invalid_client("Malformed HTTP Basic credentials.") from error
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise invalid_client("Malformed HTTP Basic credentials.")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    return unquote_plus(client_id), unquote_plus(secret)


def _assertion_credentials(form: dict[str, str]) -> PresentedCredentials:
    assertion = form.get("client_assertion")
    if form.get("client_assertion_type") != JWT_BEARER_ASSERTION or not assertion:
        raise invalid_client("Unsupported or missing client assertion.")
    try:
        unverified = json.loads(jws.extract_compact(assertion.encode("ascii")).payload)
    except (JoseError, ValueError, TypeError, UnicodeError) as error:
        raise invalid_client("The client assertion is malformed.") from error
    subject = unverified.get("sub") if isinstance(unverified, dict) else None
    client_id = form.get("client_id") or subject
    if not isinstance(client_id, str) or not client_id or subject != client_id:
        raise invalid_client("The client assertion does not name this client.")
    return PresentedCredentials(ClientAuthMethod.private_key_jwt, client_id, assertion=assertion)
