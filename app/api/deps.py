"""Dependencies shared by every router: the unit of work (session) and the authenticated principal.

Routes state the scopes they need with ``Security(require, scopes=[...])`` (or the ``Requires``
shorthand); FastAPI then lists them in the OpenAPI document, and a test walks every route to make sure
none is left without a requirement unless it is on the public list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowAuthorizationCode, OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.ratelimit import limit_machine_client
from app.security.errors import AuthenticationFailed, InsufficientScope
from app.security.principal import Principal
from app.security.scopes import SCOPE_DESCRIPTIONS, Scope

oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        authorizationCode=OAuthFlowAuthorizationCode(
            authorizationUrl="/oauth/authorize", tokenUrl="/oauth/token", scopes=SCOPE_DESCRIPTIONS
        ),
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token", scopes=SCOPE_DESCRIPTIONS),
    ),
    scheme_name="oauth2",
    description="RFC 9068 JWT access tokens from /oauth/token (or a trusted OpenID Connect issuer).",
    auto_error=False,
)


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request, committed once when the endpoint returns.

    Access-log entries queued during the request are written in that transaction; when the request
    fails they are written after the rollback in a transaction of their own, marked as such.
    """
    async with request.app.state.db.sessionmaker() as session:
        session.info[audit.REQUEST_ID] = getattr(request.state, "request_id", None)
        try:
            yield session
            await audit.write(session, audit.take_pending(session))
            await session.commit()
        except BaseException:
            await session.rollback()
            entries = audit.mark_failed(audit.take_pending(session))
            if entries:
                await audit.write(session, entries)
                await session.commit()
            raise


Session = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationFailed("A bearer token is required.", error=None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "The Authorization header must be 'Bearer <token>'.", error="invalid_request"
        )
    return token.strip()


async def authenticate(
    request: Request, authorization: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """Verify the bearer token once per request and return the caller (429 past a machine client's limit)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal: Principal = await request.app.state.token_verifier.verify(_bearer_token(authorization))
    if principal.is_machine:
        # Partners and BI clients are limited per client id (per worker process; see app.ratelimit).
        limit_machine_client(request.app.state, principal.client_id)
    request.state.principal = principal
    return principal


async def require(
    security_scopes: SecurityScopes,
    request: Request,
    authorization: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The caller, provided the token holds every scope the route declares.

    Calls ``authenticate`` itself rather than depending on it: one level less for FastAPI to solve on
    every request (the OpenAPI document still gets the scheme and the scopes from ``oauth2_scheme``)."""
    principal = await authenticate(request, authorization)
    missing = [s for s in security_scopes.scopes if s not in principal.scopes]
    if missing:
        raise InsufficientScope(security_scopes.scopes)
    return principal


async def optional_principal(
    request: Request, authorization: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal | None:
    """The caller when a bearer token is sent (verified as usual, 401 when bad); None when anonymous."""
    if authorization is None:
        return None
    return await authenticate(request, authorization)


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


def Requires(*scopes: Scope) -> type[Principal]:
    """``principal: Requires(Scope.cases_read)`` in a route signature."""
    return Annotated[Principal, Security(require, scopes=[str(s) for s in scopes])]  # type: ignore[return-value]
