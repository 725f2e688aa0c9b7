"""The token and revocation endpoints: /oauth/token and /oauth/revoke.

Grants: ``client_credentials`` (partners, BI), ``authorization_code`` with PKCE S256 (people, through
the login page) and ``refresh_token`` (people's apps: rotated, single-use), with revocation at
/oauth/revoke (RFC 7009). No password or implicit grant. Errors answer in RFC 6749 form.

This is a thin async implementation around Authlib's pieces (its error classes, PKCE helper and URI
helper) rather than Authlib's ``AuthorizationServer``, because that server is synchronous and bound to
a web framework while our storage (clients, codes, keys) is async SQLAlchemy.
"""

from __future__ import annotations

import uuid

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import UoW, secret_hasher
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
    presented_credentials,
    read_form,
)
from app.domain.identity.clients import authenticate_client, load_client
from app.domain.identity.codes import redeem_code
from app.domain.identity.grants import InvalidGrant, InvalidScope, mint_for_client, mint_for_user
from app.domain.identity.models import ClientAuthMethod, OAuthClient, RefreshToken, User
from app.domain.identity.refresh import (
    issue_refresh_token,
    may_refresh,
    redeem_refresh_token,
    revoke_refresh_token,
)
from app.domain.self_service.signin import may_sign_in
from app.security.scopes import MACHINE_ROLES, parse_scope
from app.web.ratelimit import limiter
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["oauth"], route_class=WorkRoute)


# -- token and revocation endpoints ----------------------------------------------------------------


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="Obtain an access token (client_credentials, authorization_code + PKCE, refresh_token)",
    responses=OAUTH_ERROR_RESPONSES,
    openapi_extra=form_body(TOKEN_FORM),
)
async def token(request: Request, uow: UoW) -> Response:
    try:
        client, form = await _authenticated(request, uow.session)
        body = await _grant(request, uow.session, client, form)
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
async def revoke(request: Request, uow: UoW) -> Response:
    try:
        client, form = await _authenticated(request, uow.session)
        presented = form.get("token")
        if not presented:
            raise InvalidRequestError(description="token is required.")
    except OAuth2Error as error:
        return oauth_error(error)
    # token_type_hint needs no handling: access tokens are short-lived JWTs, only refresh tokens revoke.
    await revoke_refresh_token(uow.session, client, presented)
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
    authenticated = await authenticate_client(
        session, app_settings(request), secret_hasher(request), presented, client
    )
    return authenticated, form


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
    return await _user_tokens(
        request, session, client, redeemed.user, redeemed.scopes, family=redeemed.family_id
    )


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
        request, session, client, redeemed.user, redeemed.scopes, keep=redeemed.keep, family=redeemed.token
    )


async def _user_tokens(
    request: Request,
    session: AsyncSession,
    client: OAuthClient,
    user: User,
    scopes: set[str],
    *,
    family: uuid.UUID | RefreshToken,
    keep: set[str] | None = None,
) -> TokenResponse:
    """An access token for a person and, for people's apps, the next refresh token (scopes ``keep``):
    the first of the sign-in's ``family``, or the successor of the presented token."""
    settings = app_settings(request)
    if not await may_sign_in(session, user):  # a household member whose self-service was switched off
        raise InvalidGrantError(description="The user of this grant can no longer sign in.")
    keyring = await request.app.state.token_verifier.keys()
    try:
        access_token, ttl, granted = await mint_for_user(session, keyring, settings, user, client, scopes)
    except InvalidScope as error:
        raise InvalidGrantError(description="The user may no longer hold the granted scopes.") from error
    refresh_token = None
    if may_refresh(client):
        refresh_token = await issue_refresh_token(
            session, settings, client=client, user=user, scopes=keep or granted, family=family
        )
    return TokenResponse(
        access_token=access_token,
        expires_in=ttl,
        scope=" ".join(sorted(granted)),
        refresh_token=refresh_token,
    )
