"""What every router depends on: the request's unit of work and the caller with the scopes a route
needs. The typed names a route writes in its signature (``CaseReader``, ``Admin``, ...) are declared
once, in ``app.api.auth``; this module holds the functions behind them.

Once the caller is known, each of them refuses what the operation does not declare (an unknown query
parameter, a body that is not JSON: ``app.api.strict``).

FastAPI lists the scopes of each route in the OpenAPI document (each caller check is itself the
``oauth2_scheme``'s security scheme), and a test walks every route to make sure none is left without
a requirement unless it is on the public list.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowAuthorizationCode, OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from fastapi.security.base import SecurityBase

from app.api.strict import refuse_undeclared_input
from app.domain.identity.passwords import SecretHasher
from app.domain.unit_of_work.access_log import AccessOutcome
from app.domain.unit_of_work.burden import fields_entered
from app.domain.unit_of_work.work import UnitOfWork
from app.security.errors import InsufficientScope
from app.security.principal import Principal
from app.security.scopes import SCOPE_DESCRIPTIONS
from app.web.access import describe_route, path_ids
from app.web.principal import optional_principal, request_caller
from app.web.unit_of_work import current_unit_of_work, request_unit_of_work

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

Authorization = Annotated[str | None, Depends(oauth2_scheme)]

# One per request, shared by every dependency that asks (FastAPI caches it for the request); committed
# before the answer is sent by the route class (``WorkRoute``, which every router taking it uses).
UoW = Annotated[UnitOfWork, Depends(request_unit_of_work)]


def secret_hasher(request: Request) -> SecretHasher:
    """The app's password and client-secret hasher, built once by ``create_app`` from the settings."""
    hasher: SecretHasher = request.app.state.secret_hasher
    return hasher


Hasher = Annotated[SecretHasher, Depends(secret_hasher)]


def _check_scopes(principal: Principal, required: list[str]) -> None:
    if any(s not in principal.scopes for s in required):
        raise InsufficientScope(required)


class CallerCheck(SecurityBase):
    """A check of the caller that is also the route's OAuth2 security scheme (the same ``oauth2``
    scheme and scopes in the OpenAPI document as ``oauth2_scheme``): one node of the route's
    dependency tree instead of a check plus a scheme beneath it. FastAPI solves every node of a
    route's tree on every request, so the node saved is saved on every authenticated request. The
    token is read from the ``Authorization`` header, as ``oauth2_scheme`` reads it."""

    def __init__(self) -> None:
        self.model = oauth2_scheme.model
        self.scheme_name = oauth2_scheme.scheme_name


class Caller(CallerCheck):
    async def __call__(self, security_scopes: SecurityScopes, request: Request) -> Principal:
        """The caller, provided the token holds every scope the route declares (401 without a valid
        token, 403 without a scope)."""
        principal = await request_caller(request)
        _check_scopes(principal, security_scopes.scopes)
        await refuse_undeclared_input(request)
        return principal


class LoggedCaller(CallerCheck):
    async def __call__(self, security_scopes: SecurityScopes, request: Request) -> Principal:
        """``caller`` for the routes of case data and referrals, where every attempt is part of the
        record, in the request's unit of work (the route's own ``UoW``, declared before this check:
        not a second node of the route's dependency tree, which FastAPI would walk on every request):

        * a verified caller without the scope leaves an entry with outcome ``denied`` (the household
          id from the path when the route has one), written although the request fails;
        * a caller with the scope is noted as attempting the route's action, so a request that fails
          before its service logged anything (an invalid body, a NUL in a reason, a database error)
          still leaves its entry, as ``failed`` (``UnitOfWork.attempting``).

        Unauthenticated requests (no, expired or forged token) are not written: there is no verified
        caller to record, and an unauthenticated client must not be able to grow the append-only
        log; the request metrics count them instead."""
        uow = current_unit_of_work(request)
        principal = await request_caller(request)
        resource, action = describe_route(request)
        household_id, resource_id = path_ids(request)
        try:
            _check_scopes(principal, security_scopes.scopes)
        except InsufficientScope:
            uow.log(
                principal,
                resource=resource,
                action=action,
                outcome=AccessOutcome.denied,
                household_id=household_id,
                resource_id=resource_id,
            )
            raise
        uow.attempting(
            principal, resource=resource, action=action, household_id=household_id, resource_id=resource_id
        )
        await refuse_undeclared_input(request)
        if request.method not in READ_METHODS and principal.worker_id is not None:
            # A worker's write: counted, with the fields it carries, for the households it changes.
            uow.count_writes(fields_entered(await _json_body(request)))
        return principal


caller = Caller()
logged_caller = LoggedCaller()


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _json_body(request: Request) -> Any:
    """The request's JSON body as FastAPI parsed it for the route (Starlette keeps the parsed value:
    it is not parsed a second time), or None."""
    if not await request.body():
        return None
    try:
        return await request.json()
    except ValueError:  # not JSON (the route takes another media type): nothing to count
        return None


async def maybe_caller(request: Request, authorization: Authorization) -> Principal | None:
    """The caller when a bearer token is sent (verified as usual, 401 when bad); None when anonymous."""
    principal = await optional_principal(request, authorization)
    await refuse_undeclared_input(request)
    return principal
