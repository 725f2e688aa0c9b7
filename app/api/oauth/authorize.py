"""The authorization endpoint: the login page of the authorization-code flow (PKCE S256 only).

The page signs a person in and sends a one-time code back to the app's registered redirect URI.
It loads nothing from elsewhere (no script at all; its one style is allowed by hash in the CSP),
and its form carries a CSRF token bound to the authorization request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import (
    InvalidScopeError,
)
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.api.deps import UoW, secret_hasher
from app.api.oauth.forms import (
    NO_STORE,
    FormError,
    app_settings,
    client_ip,
    parameters,
    read_form,
)
from app.api.oauth.pages import page
from app.api.oauth.requests import (
    AUTHORIZE_PARAMS,
    AuthorizationRequest,
    PageError,
    RedirectError,
    validate_authorization_request,
    with_params,
)
from app.domain.errors import RateLimited
from app.domain.identity.codes import issue_code
from app.domain.identity.grants import InvalidScope, grant_scopes, user_permitted_scopes
from app.domain.identity.models import User
from app.domain.identity.passwords import SecretHasher
from app.domain.self_service.signin import may_sign_in
from app.security.scopes import PERSON_ROLES, parse_scope
from app.settings import Settings
from app.web.ratelimit import limiter
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["oauth"], route_class=WorkRoute)

# Sign-in attempts per username and IP address per minute (per worker process).
LOGIN_ATTEMPTS_PER_MINUTE = 10
LOGIN_FORM_TTL = 600  # seconds a rendered login form stays valid
CSRF_COOKIE = "wijkwerk_login"

# -- authorization endpoint: the login page --------------------------------------------------------


def _error_page(error: PageError) -> HTMLResponse:
    return page("error.html", 400, message=error.message)


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
    login = page(
        "login.html",
        status,
        form_action=_form_action(auth.redirect_uri),
        client_name=auth.client.name,
        hidden=auth.hidden_fields(),
        csrf_token=_csrf_token(settings, nonce, auth, expires),
        error=error,
    )
    login.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=LOGIN_FORM_TTL,
        path="/oauth/authorize",
        secure=settings.issuer.startswith("https://"),
        httponly=True,
        samesite="strict",
    )
    return login


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
    uow: UoW,
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
        auth = await validate_authorization_request(uow.session, params)
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
async def authorize_submit(request: Request, uow: UoW) -> Response:
    settings = app_settings(request)
    try:
        form = await read_form(request)
        auth = await validate_authorization_request(uow.session, form)
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
        return page(
            "error.html",
            429,
            headers={"Retry-After": str(limited.retry_after)},
            message="Te veel inlogpogingen. Wacht even en probeer het opnieuw.",
        )
    user = await _check_credentials(uow.session, secret_hasher(request), username, form.get("password", ""))
    if user is None:
        message = "Gebruikersnaam of wachtwoord onjuist."  # the same for every failure
        return _login_page(settings, nonce, auth, 400, message)
    return await _issue_code(uow.session, settings, auth, user)


async def _check_credentials(
    session: AsyncSession, hasher: SecretHasher, username: str, password: str
) -> User | None:
    """The user when the password matches and they may sign in here; the same timing either way."""
    user = None
    if 0 < len(username) <= 80:
        found = await session.execute(select(User).where(User.username == username))
        user = found.scalar_one_or_none()
    # Checked against a dummy hash when there is no such user, so both take as long.
    ok = await hasher.verify_in_thread(user.password_hash if user else None, password)
    if not ok or user is None or not user.active or user.role not in {str(r) for r in PERSON_ROLES}:
        return None
    if not await may_sign_in(session, user):  # a household member whose self-service is off
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
