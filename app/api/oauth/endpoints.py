"""The built-in authorization server: /oauth/token, /oauth/authorize, discovery and JWKS.

Grants: ``client_credentials`` (partners, BI), ``authorization_code`` with PKCE S256 (people, through
the login page) and ``refresh_token`` (people's apps: rotated, single-use),
with revocation at /oauth/revoke (RFC 7009). No password or implicit grant. Errors answer in RFC 6749
form.

This is a thin async implementation around Authlib's pieces (its error classes, PKCE helper and URI
helper) rather than Authlib's ``AuthorizationServer``, because that server is synchronous and bound to
a web framework while our storage (clients, codes, keys) is async SQLAlchemy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.api.deps import Session
from app.api.oauth.forms import (
    NO_STORE,
    OAUTH_ERROR_RESPONSES,
    REVOKE_FORM,
    TOKEN_FORM,
    FormError,
    TokenResponse,
    app_settings,
    client_ip,
    form_body,
    oauth_error,
    parameters,
    read_form,
)
from app.domain.errors import RateLimited
from app.domain.identity.clients import (
    ASSERTION_ALGORITHMS,
    AUTHORIZE_PARAMS,
    AuthorizationRequest,
    PageError,
    RedirectError,
    authenticate_client,
    load_client,
    presented_credentials,
    token_endpoint_url,
    validate_authorization_request,
    with_params,
)
from app.domain.identity.grants import (
    InvalidGrant,
    InvalidScope,
    grant_scopes,
    issue_code,
    mint_for_client,
    mint_for_user,
    redeem_code,
    user_permitted_scopes,
)
from app.domain.identity.keys import SIGNING_ALGORITHMS, public_jwks
from app.domain.identity.models import ClientAuthMethod, OAuthClient, RefreshToken, User
from app.domain.identity.passwords import verify_secret_in_thread
from app.domain.identity.refresh import (
    issue_refresh_token,
    may_refresh,
    redeem_refresh_token,
    revoke_refresh_token,
)
from app.ratelimit import limiter
from app.security.scopes import MACHINE_ROLES, PERSON_ROLES, SCOPE_DESCRIPTIONS, parse_scope
from app.settings import Settings

router = APIRouter(tags=["oauth"])

# Sign-in attempts per username and IP address per minute (per worker process).
LOGIN_ATTEMPTS_PER_MINUTE = 10
LOGIN_FORM_TTL = 600  # seconds a rendered login form stays valid
CSRF_COOKIE = "wijkwerk_login"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
# The page's only style, allowed by hash in the CSP: no inline script, nothing loaded from elsewhere.
LOGIN_CSS = (
    "body{font-family:system-ui,sans-serif;background:#f4f6f8;color:#1d2733;margin:0;padding:2rem 1rem}"
    "main{max-width:24rem;margin:0 auto;background:#fff;border-radius:.5rem;padding:1.5rem 2rem}"
    "h1{font-size:1.35rem;margin:0 0 .5rem}p{line-height:1.4}"
    "label{display:block;margin:1rem 0 .25rem;font-weight:600}"
    "input{box-sizing:border-box;width:100%;padding:.6rem;font-size:1rem;border:1px solid #8a96a3}"
    "button{margin-top:1.25rem;width:100%;padding:.7rem;font-size:1rem;border:0;background:#0b5cad;"
    "color:#fff;cursor:pointer}.error{background:#fdecea;border-left:4px solid #b3261e;padding:.6rem}"
    ".muted{color:#56616d;font-size:.9rem}"
)
_CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(LOGIN_CSS.encode()).digest()).decode()


# -- token and revocation endpoints ----------------------------------------------------------------


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="Obtain an access token (client_credentials, authorization_code + PKCE, refresh_token)",
    responses=OAUTH_ERROR_RESPONSES,
    openapi_extra=form_body(TOKEN_FORM),
)
async def token(request: Request, session: Session) -> Response:
    try:
        client, form = await _authenticated(request, session)
        body = await _grant(request, session, client, form)
    except OAuth2Error as error:
        return oauth_error(error)
    return JSONResponse(body.model_dump(exclude_none=True), headers=NO_STORE)


@router.post(
    "/oauth/revoke",
    response_class=Response,
    summary="Revoke a refresh token (RFC 7009): the app's session ends",
    description="Answers 200 for unknown, expired and already revoked tokens alike.",
    responses={200: {"description": "Revoked (or nothing to revoke)"}, **OAUTH_ERROR_RESPONSES},
    openapi_extra=form_body(REVOKE_FORM),
)
async def revoke(request: Request, session: Session) -> Response:
    try:
        client, form = await _authenticated(request, session)
        presented = form.get("token")
        if not presented:
            raise InvalidRequestError(description="token is required.")
    except OAuth2Error as error:
        return oauth_error(error)
    # token_type_hint needs no handling: access tokens are short-lived JWTs, only refresh tokens revoke.
    await revoke_refresh_token(session, client, presented)
    return Response(status_code=200, headers=NO_STORE)


async def _authenticated(request: Request, session: AsyncSession) -> tuple[OAuthClient, dict[str, str]]:
    """The form and the authenticated client (RFC 6749 §2.3), the request counted against the limit."""
    try:
        form = await read_form(request)
        presented = presented_credentials(form, request.headers.get("authorization"))
    except FormError as error:
        _limit_token_endpoint(request, None)
        raise InvalidRequestError(description=str(error)) from error
    except OAuth2Error:
        _limit_token_endpoint(request, None)
        raise
    client = await load_client(session, presented.client_id)
    _limit_token_endpoint(request, client)
    return await authenticate_client(session, app_settings(request), presented, client), form


def _limit_token_endpoint(request: Request, client: OAuthClient | None) -> None:
    """Per client id (when it names a registered client), else per IP address; 429 past the limit.
    The token and revocation endpoints share the bucket."""
    key = f"client:{client.client_id}" if client else f"ip:{client_ip(request)}"
    per_minute = app_settings(request).rate_limit_token_per_minute
    limiter(request.app.state, "token", per_minute).hit(key)


async def _grant(
    request: Request, session: AsyncSession, client: OAuthClient, form: dict[str, str]
) -> TokenResponse:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequestError(description="grant_type is required.")
    if grant_type == "client_credentials":
        return await _client_credentials(request, client, form)
    if grant_type == "authorization_code":
        return await _authorization_code(request, session, client, form)
    if grant_type == "refresh_token":
        return await _refresh_token(request, session, client, form)
    unsupported = UnsupportedGrantTypeError(grant_type="")
    unsupported.description = "Supported: client_credentials, authorization_code, refresh_token."
    raise unsupported


async def _client_credentials(request: Request, client: OAuthClient, form: dict[str, str]) -> TokenResponse:
    if client.auth_method == ClientAuthMethod.none or client.role not in {str(r) for r in MACHINE_ROLES}:
        raise UnauthorizedClientError(description="This client may not use client_credentials.")
    keyring = await request.app.state.token_verifier.keys()
    try:
        access_token, ttl, scopes = await mint_for_client(
            keyring, app_settings(request), client, parse_scope(form.get("scope"))
        )
    except InvalidScope as error:
        raise InvalidScopeError(description="A requested scope is not allowed for this client.") from error
    # Never a refresh token here: a machine client authenticates again (RFC 6749 §4.4.3).
    return TokenResponse(access_token=access_token, expires_in=ttl, scope=" ".join(sorted(scopes)))


async def _authorization_code(
    request: Request, session: AsyncSession, client: OAuthClient, form: dict[str, str]
) -> TokenResponse:
    code = form.get("code")
    if not code:
        raise InvalidRequestError(description="code is required.")
    try:
        redeemed = await redeem_code(
            session,
            client=client,
            code=code,
            redirect_uri=form.get("redirect_uri"),
            verifier=form.get("code_verifier"),
        )
    except InvalidGrant as error:
        raise InvalidGrantError(description=str(error)) from error
    return await _user_tokens(request, session, client, redeemed.user, redeemed.scopes)


async def _refresh_token(
    request: Request, session: AsyncSession, client: OAuthClient, form: dict[str, str]
) -> TokenResponse:
    presented = form.get("refresh_token")
    if not presented:
        raise InvalidRequestError(description="refresh_token is required.")
    if not may_refresh(client):
        raise UnauthorizedClientError(description="This client may not use refresh_token.")
    try:
        redeemed = await redeem_refresh_token(
            session, client=client, token=presented, requested=parse_scope(form.get("scope"))
        )
    except InvalidGrant as error:
        raise InvalidGrantError(description=str(error)) from error
    except InvalidScope as error:
        raise InvalidScopeError(description=str(error)) from error
    return await _user_tokens(
        request, session, client, redeemed.user, redeemed.scopes, keep=redeemed.keep, parent=redeemed.token
    )


async def _user_tokens(
    request: Request,
    session: AsyncSession,
    client: OAuthClient,
    user: User,
    scopes: set[str],
    *,
    keep: set[str] | None = None,
    parent: RefreshToken | None = None,
) -> TokenResponse:
    """An access token for a person and, for people's apps, the next refresh token (scopes ``keep``)."""
    settings = app_settings(request)
    keyring = await request.app.state.token_verifier.keys()
    try:
        access_token, ttl, granted = await mint_for_user(session, keyring, settings, user, client, scopes)
    except InvalidScope as error:
        raise InvalidGrantError(description="The user may no longer hold the granted scopes.") from error
    refresh_token = None
    if may_refresh(client):
        refresh_token = await issue_refresh_token(
            session, settings, client=client, user=user, scopes=keep or granted, parent=parent
        )
    return TokenResponse(
        access_token=access_token,
        expires_in=ttl,
        scope=" ".join(sorted(granted)),
        refresh_token=refresh_token,
    )


# -- authorization endpoint: the login page --------------------------------------------------------


def _page(
    template: str,
    status: int,
    *,
    form_action: str = "'self'",
    headers: dict[str, str] | None = None,
    **ctx: Any,
) -> HTMLResponse:
    html = _templates.get_template(template).render(css=Markup(LOGIN_CSS), **ctx)  # noqa: S704 - a constant
    csp = (
        f"default-src 'none'; style-src '{_CSS_HASH}'; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    page_headers = {
        **NO_STORE,
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        **(headers or {}),
    }
    return HTMLResponse(html, status_code=status, headers=page_headers)


def _error_page(error: PageError) -> HTMLResponse:
    return _page("error.html", 400, message=error.message)


def _form_action(redirect_uri: str) -> str:
    """CSP form-action must also allow the redirect after the POST (browsers apply it to redirects)."""
    parts = urlsplit(redirect_uri)
    target = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    return f"'self' {target}"


def _csrf_key(settings: Settings) -> bytes:
    return hashlib.sha256(b"wijkwerk-login-csrf:" + settings.secret("secret_key").encode()).digest()


def _csrf_token(settings: Settings, nonce: str, request: AuthorizationRequest, expires: int) -> str:
    """Binds the form to the browser (cookie nonce), to this authorization request and to a deadline."""
    fields = request.hidden_fields()
    message = "|".join([nonce, str(expires), *(fields[name] for name in AUTHORIZE_PARAMS)])
    mac = hmac.new(_csrf_key(settings), message.encode(), hashlib.sha256).hexdigest()
    return f"{expires}.{mac}"


def _csrf_valid(settings: Settings, nonce: str | None, request: AuthorizationRequest, token: str) -> bool:
    expires_text, _, _ = token.partition(".")
    if not nonce or not expires_text.isdigit() or int(expires_text) < time.time():
        return False
    expected = _csrf_token(settings, nonce, request, int(expires_text))
    return hmac.compare_digest(expected.encode(), token.encode())


def _login_page(
    settings: Settings, nonce: str, auth: AuthorizationRequest, status: int = 200, error: str | None = None
) -> HTMLResponse:
    expires = int(time.time()) + LOGIN_FORM_TTL
    page = _page(
        "login.html",
        status,
        form_action=_form_action(auth.redirect_uri),
        client_name=auth.client.name,
        hidden=auth.hidden_fields(),
        csrf_token=_csrf_token(settings, nonce, auth, expires),
        error=error,
    )
    page.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=LOGIN_FORM_TTL,
        path="/oauth/authorize",
        secure=settings.issuer.startswith("https://"),
        httponly=True,
        samesite="strict",
    )
    return page


_HTML_RESPONSES: dict[int | str, dict[str, Any]] = {
    302: {
        "description": "Back to the client's redirect_uri with `code`, `state` and `iss`, or with `error`.",
        "headers": {"Location": {"schema": {"type": "string"}}},
    },
    400: {
        "description": "Error page: unknown client, unregistered redirect_uri, expired form, bad sign-in",
        "content": {"text/html": {}},
    },
    429: {
        "description": "Too many sign-in attempts",
        "content": {"text/html": {}},
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}, "required": True}},
    },
}


@router.get(
    "/oauth/authorize",
    response_class=HTMLResponse,
    summary="Sign-in page of the authorization-code flow (PKCE S256 required)",
    responses=_HTML_RESPONSES,
)
async def authorize_page(
    request: Request,
    session: Session,
    response_type: str | None = Query(None, examples=["code"]),
    client_id: str | None = Query(None),
    redirect_uri: str | None = Query(None),
    scope: str | None = Query(None),
    state: str | None = Query(None),
    code_challenge: str | None = Query(None),
    code_challenge_method: str | None = Query(None, examples=["S256"]),
) -> Response:
    try:
        params = parameters(list(request.query_params.multi_items()))
        auth = await validate_authorization_request(session, params)
    except FormError as error:
        return _error_page(PageError(str(error)))
    except PageError as error:
        return _error_page(error)
    except RedirectError as error:
        return RedirectResponse(error.location, status_code=302, headers=NO_STORE)
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(16)
    return _login_page(app_settings(request), nonce[:64], auth)


_LOGIN_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["username", "password", "csrf_token", "client_id", "redirect_uri"],
    "properties": {
        **{name: {"type": "string"} for name in AUTHORIZE_PARAMS},
        "csrf_token": {"type": "string"},
        "username": {"type": "string"},
        "password": {"type": "string", "format": "password"},
    },
}


@router.post(
    "/oauth/authorize",
    response_class=HTMLResponse,
    summary="Submit the sign-in form; redirects back with a one-time code",
    responses=_HTML_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _LOGIN_FORM}},
        }
    },
)
async def authorize_submit(request: Request, session: Session) -> Response:
    settings = app_settings(request)
    try:
        form = await read_form(request)
        auth = await validate_authorization_request(session, form)
    except FormError as error:
        return _error_page(PageError(str(error)))
    except PageError as error:
        return _error_page(error)
    except RedirectError as error:
        return RedirectResponse(error.location, status_code=302, headers=NO_STORE)
    nonce = request.cookies.get(CSRF_COOKIE)
    if not _csrf_valid(settings, nonce, auth, form.get("csrf_token", "")):
        return _error_page(PageError("Het inlogformulier is verlopen. Begin opnieuw vanuit de app."))
    assert nonce is not None
    username = form.get("username", "")
    try:
        key = f"{username.strip().lower()[:80]}|{client_ip(request)}"
        limiter(request.app.state, "login", LOGIN_ATTEMPTS_PER_MINUTE).hit(key)
    except RateLimited as limited:
        return _page(
            "error.html",
            429,
            headers={"Retry-After": str(limited.retry_after)},
            message="Te veel inlogpogingen. Wacht even en probeer het opnieuw.",
        )
    user = await _check_credentials(session, username, form.get("password", ""))
    if user is None:
        message = "Gebruikersnaam of wachtwoord onjuist."  # the same for every failure
        return _login_page(settings, nonce, auth, 400, message)
    return await _issue_code(session, settings, auth, user)


async def _check_credentials(session: AsyncSession, username: str, password: str) -> User | None:
    """The user when the password matches and they may sign in here; the same timing either way."""
    user = None
    if 0 < len(username) <= 80:
        found = await session.execute(select(User).where(User.username == username))
        user = found.scalar_one_or_none()
    # Checked against a dummy hash when there is no such user, so both take as long.
    ok = await verify_secret_in_thread(user.password_hash if user else None, password)
    if not ok or user is None or not user.active or user.role not in {str(r) for r in PERSON_ROLES}:
        return None
    return user


async def _issue_code(
    session: AsyncSession, settings: Settings, auth: AuthorizationRequest, user: User
) -> Response:
    try:
        scopes = grant_scopes(parse_scope(auth.scope), user_permitted_scopes(user, auth.client))
    except InvalidScope:
        error = InvalidScopeError(description="A requested scope is not available to this user.")
        return RedirectResponse(
            RedirectError(auth.redirect_uri, auth.state, error).location, status_code=302, headers=NO_STORE
        )
    code = await issue_code(
        session,
        settings,
        client=auth.client,
        user=user,
        redirect_uri=auth.redirect_uri,
        scopes=scopes,
        code_challenge=auth.code_challenge,
    )
    location = with_params(auth.redirect_uri, code=code, state=auth.state or None, iss=settings.issuer)
    response = RedirectResponse(location, status_code=302, headers=NO_STORE)
    response.delete_cookie(CSRF_COOKIE, path="/oauth/authorize")
    return response


# -- discovery and keys ----------------------------------------------------------------------------


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 authorization server metadata (also served as OpenID Connect discovery)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    revocation_endpoint_auth_methods_supported: list[str]
    jwks_uri: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    scopes_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    access_token_signing_alg_values_supported: list[str]


class JWKSet(BaseModel):
    keys: list[dict[str, Any]] = Field(description="Public keys of every unretired signing key.")


def _metadata(settings: Settings) -> AuthorizationServerMetadata:
    base = settings.issuer.rstrip("/")
    return AuthorizationServerMetadata(
        issuer=settings.issuer,
        authorization_endpoint=f"{base}/oauth/authorize",
        token_endpoint=token_endpoint_url(settings),
        revocation_endpoint=f"{base}/oauth/revoke",
        revocation_endpoint_auth_methods_supported=[m.value for m in ClientAuthMethod],
        jwks_uri=f"{base}/.well-known/jwks.json",
        grant_types_supported=["authorization_code", "client_credentials", "refresh_token"],
        response_types_supported=["code"],
        response_modes_supported=["query"],
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=[m.value for m in ClientAuthMethod],
        token_endpoint_auth_signing_alg_values_supported=list(ASSERTION_ALGORITHMS),
        scopes_supported=[str(s) for s in SCOPE_DESCRIPTIONS],
        authorization_response_iss_parameter_supported=True,
        access_token_signing_alg_values_supported=list(SIGNING_ALGORITHMS),
    )


@router.get(
    "/.well-known/openid-configuration",
    response_model=AuthorizationServerMetadata,
    summary="Discovery document (endpoints, grants, PKCE, scopes)",
)
async def openid_configuration(request: Request) -> JSONResponse:
    body = _metadata(app_settings(request)).model_dump()
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=3600"})


@router.get(
    "/.well-known/oauth-authorization-server",
    response_model=AuthorizationServerMetadata,
    summary="RFC 8414 authorization server metadata (same document)",
)
async def authorization_server_metadata(request: Request) -> JSONResponse:
    return await openid_configuration(request)


@router.get("/.well-known/jwks.json", response_model=JWKSet, summary="Public keys that sign access tokens")
async def jwks(request: Request, session: Session) -> JSONResponse:
    await request.app.state.token_verifier.keys()  # on a fresh database this creates the first key
    # Short cache: after a rotation the new key signs at once, so verifiers must see it soon.
    return JSONResponse(await public_jwks(session), headers={"Cache-Control": "public, max-age=60"})
