"""The authorization request (GET and POST /oauth/authorize), checked against the client's
registration: exact redirect_uri, response_type ``code``, PKCE S256, scopes the client may ask for."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError, UnsupportedResponseTypeError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.identity.clients import load_client
from app.domain.identity.codes import is_valid_code_challenge
from app.domain.identity.models import OAuthClient
from app.security.scopes import Scope, parse_scope

# -- the authorization request (GET and POST /oauth/authorize) -----------------------------------

AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True)
class AuthorizationRequest:
    client: OAuthClient
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str

    def hidden_fields(self) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }


class PageError(Exception):
    """The request cannot be answered with a redirect: show an error page (never redirect)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RedirectError(Exception):
    """An error for a known client and registered redirect_uri: sent back there (RFC 6749 §4.1.2.1)."""

    def __init__(self, redirect_uri: str, state: str, error: OAuth2Error) -> None:
        super().__init__(error.error)
        self.location = with_params(redirect_uri, error=error.error, error_description=error.description)
        if state:
            self.location = add_params_to_uri(self.location, [("state", state)])


def with_params(uri: str, **params: str | None) -> str:
    return add_params_to_uri(uri, [(k, v) for k, v in params.items() if v])


async def validate_authorization_request(
    session: AsyncSession, params: dict[str, str]
) -> AuthorizationRequest:
    """Client and redirect_uri first (errors there are pages), then the rest (errors are redirects)."""
    client = await load_client(session, params.get("client_id", ""))
    people_client = client is not None and client.active and client.role is None and client.redirect_uris
    if client is None or not people_client:
        raise PageError("Deze app is niet bekend bij Wijkwerk (unknown client_id).")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:  # exact string match, no prefixes or patterns
        raise PageError("Deze terugkeer-URL is niet geregistreerd (redirect_uri mismatch).")
    state = params.get("state", "")

    def fail(error: OAuth2Error) -> RedirectError:
        return RedirectError(redirect_uri, state, error)

    response_type = params.get("response_type")
    if response_type != "code":
        if not response_type:
            raise fail(InvalidRequestError(description="response_type is required."))
        raise fail(UnsupportedResponseTypeError("", description="Only response_type=code is supported."))
    if params.get("code_challenge_method") != "S256" or not is_valid_code_challenge(
        params.get("code_challenge")
    ):
        raise fail(InvalidRequestError(description="PKCE is required: code_challenge with method S256."))
    scopes = parse_scope(params.get("scope"))
    known = {str(s) for s in Scope}
    if not scopes <= known or (client.allowed_scopes and not scopes <= set(client.allowed_scopes)):
        raise fail(InvalidScopeError(description="A requested scope is not available to this client."))
    return AuthorizationRequest(
        client, redirect_uri, " ".join(sorted(scopes)), state, params["code_challenge"]
    )
