"""The activation page: a household member sets the password of their account with the one-time
code their coordinator gave them (the built-in sign-in, standing in for DigiD in development).

* The code is typed into a form and POSTed, never put in a URL; it is not echoed back, written to a
  log or kept other than as the keyed hash the coordinator's request stored.
* Attempts are limited per IP address (``ACTIVATION_ATTEMPTS_PER_MINUTE``, per worker process);
  a code guessed at random is one of 2^60 and lives for days, not years.
* An unknown, used, expired or revoked code, and one of a member whose self-service was switched
  off, get the same answer. A password that breaks a rule leaves the code usable.
* The form carries a CSRF token bound to a cookie nonce and a deadline, like the login page's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.api.deps import UoW, secret_hasher
from app.api.oauth.forms import FormError, app_settings, client_ip, read_form
from app.api.oauth.pages import page
from app.domain.errors import NotFound, RateLimited, ValidationFailed
from app.domain.self_service.rules import CodeHasher
from app.domain.self_service.signin import activate
from app.settings import Settings
from app.web.ratelimit import limiter
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["oauth"], route_class=WorkRoute)

ACTIVATION_ATTEMPTS_PER_MINUTE = 10
FORM_TTL = 900  # seconds a rendered activation form stays valid
CSRF_COOKIE = "wijkwerk_activate"
PATH = "/oauth/activate"

UNKNOWN_CODE = "Deze activatiecode is onbekend, al gebruikt of verlopen. Vraag uw regisseur om een nieuwe."
NOT_THE_SAME = "De twee wachtwoorden zijn niet gelijk."
EXPIRED_FORM = "Het formulier is verlopen. Probeer het opnieuw."


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(b"wijkwerk-activation-csrf:" + settings.secret("secret_key").encode()).digest()


def _csrf_token(settings: Settings, nonce: str, expires: int) -> str:
    mac = hmac.new(_key(settings), f"{nonce}|{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{expires}.{mac}"


def _csrf_valid(settings: Settings, nonce: str | None, token: str) -> bool:
    expires_text, _, _ = token.partition(".")
    if not nonce or not expires_text.isdigit() or int(expires_text) < time.time():
        return False
    return hmac.compare_digest(_csrf_token(settings, nonce, int(expires_text)).encode(), token.encode())


def _form(settings: Settings, nonce: str, status: int = 200, error: str | None = None) -> HTMLResponse:
    expires = int(time.time()) + FORM_TTL
    form = page("activate.html", status, csrf_token=_csrf_token(settings, nonce, expires), error=error)
    form.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=FORM_TTL,
        path=PATH,
        secure=settings.issuer.startswith("https://"),
        httponly=True,
        samesite="strict",
    )
    return form


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The form again, with what was wrong", "content": {"text/html": {}}},
    429: {
        "description": "Too many attempts",
        "content": {"text/html": {}},
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}, "required": True}},
    },
}
_ACTIVATION_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["code", "password", "password_repeat", "csrf_token"],
    "properties": {
        "code": {"type": "string", "description": "The activation code, e.g. 7KQ2-M9XD-4RTA."},
        "password": {"type": "string", "format": "password", "minLength": 12},
        "password_repeat": {"type": "string", "format": "password"},
        "csrf_token": {"type": "string"},
    },
}


@router.get(
    PATH,
    response_class=HTMLResponse,
    summary="Activation page: a household member sets their password with an activation code",
    responses=_RESPONSES,
)
async def activation_page(request: Request) -> Response:
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(16)
    return _form(app_settings(request), nonce[:64])


@router.post(
    PATH,
    response_class=HTMLResponse,
    summary="Submit the activation form; the code is used up and the password set",
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _ACTIVATION_FORM}},
        }
    },
)
async def activation_submit(request: Request, uow: UoW) -> Response:
    settings = app_settings(request)
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(16)
    try:
        limiter(request.app.state, "activate", ACTIVATION_ATTEMPTS_PER_MINUTE).hit(f"ip:{client_ip(request)}")
    except RateLimited as limited:
        message = "Te veel pogingen. Wacht even en probeer het opnieuw."
        return page("error.html", 429, headers={"Retry-After": str(limited.retry_after)}, message=message)
    try:
        form = await read_form(request)
    except FormError:
        return _form(settings, nonce[:64], 400, EXPIRED_FORM)
    if not _csrf_valid(settings, request.cookies.get(CSRF_COOKIE), form.get("csrf_token", "")):
        return _form(settings, nonce[:64], 400, EXPIRED_FORM)
    password = form.get("password", "")
    if password != form.get("password_repeat", ""):
        return _form(settings, nonce[:64], 400, NOT_THE_SAME)
    codes = CodeHasher(settings.secret("secret_key"))
    try:
        username = await activate(uow, codes, secret_hasher(request), form.get("code", ""), password)
    except NotFound:
        return _form(settings, nonce[:64], 400, UNKNOWN_CODE)
    except ValidationFailed as failed:
        return _form(settings, nonce[:64], 400, " ".join(e.message for e in failed.errors))
    done = page("activated.html", 200, username=username)
    done.delete_cookie(CSRF_COOKIE, path=PATH)
    return done
