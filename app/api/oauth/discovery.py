"""Discovery (RFC 8414 and OpenID Connect metadata) and the JWKS with the token signing keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.api.deps import UoW
from app.api.oauth.forms import (
    app_settings,
)
from app.domain.identity.clients import (
    ASSERTION_ALGORITHMS,
    token_endpoint_url,
)
from app.domain.identity.keys import SIGNING_ALGORITHMS, public_jwks
from app.domain.identity.models import ClientAuthMethod
from app.security.scopes import SCOPE_DESCRIPTIONS
from app.settings import Settings
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["oauth"], route_class=WorkRoute)


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
async def jwks(request: Request, uow: UoW) -> JSONResponse:
    await request.app.state.token_verifier.keys()  # on a fresh database this creates the first key
    # Short cache: after a rotation the new key signs at once, so verifiers must see it soon.
    return JSONResponse(await public_jwks(uow.session), headers={"Cache-Control": "public, max-age=60"})
