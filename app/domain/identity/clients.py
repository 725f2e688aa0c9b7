"""Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2, RFC 7521 §4.2).

* ``client_secret_basic``: HTTP Basic with the client id and secret (argon2id hash in the database).
* ``private_key_jwt``: a JWT signed with a key from the client's registered ``jwks``; ``iss`` and
  ``sub`` are the client id, ``aud`` is the token endpoint URL or the issuer, ``exp`` is required and at
  most five minutes ahead, and its ``jti`` is single-use: remembered in ``oauth_used_assertions`` until
  it expires, so a replayed assertion is refused (also across worker processes).
* ``none``: public clients (the mobile app) name their ``client_id`` and prove the flow with PKCE.

A client may use only the method it was registered with. Every failure is ``invalid_client``.

Also here: checking an authorization request against the client's registration (exact redirect_uri,
response_type ``code``, PKCE S256, scopes), for the login page.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import sqlalchemy as sa
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    UnsupportedResponseTypeError,
)
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.identity.grants import is_valid_code_challenge
from app.domain.identity.models import ClientAuthMethod, OAuthClient, UsedClientAssertion
from app.domain.identity.passwords import verify_secret_in_thread
from app.security.scopes import Scope, parse_scope
from app.settings import Settings

JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("ES256", "RS256", "PS256")
# An assertion may be valid for at most this long into the future (seconds).
MAX_ASSERTION_LIFETIME = 300
ASSERTION_LEEWAY = 30


@dataclass(frozen=True)
class PresentedCredentials:
    """What the request presented, before anything is checked."""

    method: ClientAuthMethod
    client_id: str
    secret: str | None = None
    assertion: str | None = None


def invalid_client(description: str = "Client authentication failed.") -> InvalidClientError:
    return InvalidClientError(description=description, status_code=401)


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


async def load_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    # Ids come from headers and unverified JWTs too: nothing PostgreSQL text would choke on (NUL).
    if len(client_id) > 80 or any(ord(c) < 0x20 for c in client_id):
        return None
    result = await session.execute(select(OAuthClient).where(OAuthClient.client_id == client_id))
    return result.scalar_one_or_none()


async def authenticate_client(
    session: AsyncSession, settings: Settings, presented: PresentedCredentials, client: OAuthClient | None
) -> OAuthClient:
    """The client, once its credentials check out with its registered method; else invalid_client."""
    if presented.method is ClientAuthMethod.client_secret_basic:
        # Verify even for an unknown client, so timing does not tell which client ids exist.
        valid = await verify_secret_in_thread(client.secret_hash if client else None, presented.secret or "")
        if not valid or client is None:
            raise invalid_client()
    if client is None or not client.active or client.auth_method != presented.method:
        raise invalid_client()
    if presented.method is ClientAuthMethod.private_key_jwt:
        assert presented.assertion is not None
        await _verify_assertion(session, settings, client, presented.assertion)
    return client


def token_endpoint_url(settings: Settings) -> str:
    return settings.issuer.rstrip("/") + "/oauth/token"


async def _verify_assertion(
    session: AsyncSession, settings: Settings, client: OAuthClient, assertion: str
) -> None:
    try:
        keys = KeySet.import_key_set(client.jwks or {"keys": []})  # type: ignore[arg-type]
        claims = jwt.decode(assertion, keys, algorithms=list(ASSERTION_ALGORITHMS)).claims
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise invalid_client("The client assertion signature is not valid.") from error
    now = int(time.time())
    registry = JWTClaimsRegistry(
        now=now,
        leeway=ASSERTION_LEEWAY,
        iss={"essential": True, "value": client.client_id},
        sub={"essential": True, "value": client.client_id},
        aud={"essential": True, "values": [token_endpoint_url(settings), settings.issuer]},
        exp={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise invalid_client(f"The client assertion is not valid ({error.error}).") from error
    if claims["exp"] > now + MAX_ASSERTION_LIFETIME:
        raise invalid_client("The client assertion is valid for too long.")
    jti = claims["jti"]
    if len(jti) > 255:
        raise invalid_client("The client assertion's jti is too long.")
    if not await _remember_jti(session, client.client_id, jti, int(claims["exp"])):
        raise invalid_client("The client assertion was already used.")


async def _remember_jti(session: AsyncSession, client_id: str, jti: str, exp: int) -> bool:
    """Record a jti; False when it was recorded before (a replay). Forgets expired ones on the way."""
    await session.execute(
        sa.delete(UsedClientAssertion).where(col(UsedClientAssertion.expires_at) < sa.func.now())
    )
    expires = datetime.fromtimestamp(exp + ASSERTION_LEEWAY, UTC)
    inserted = await session.execute(
        insert(UsedClientAssertion)
        .values(client_id=client_id, jti=jti, expires_at=expires)
        .on_conflict_do_nothing()
        .returning(col(UsedClientAssertion.jti))
    )
    return inserted.first() is not None


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
