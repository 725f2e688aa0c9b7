"""Who is calling: the principal from the request's bearer token, verified once per request."""

from __future__ import annotations

from fastapi import Request

from app.security.errors import AuthenticationFailed
from app.security.principal import Principal
from app.web.ratelimit import limit_machine_client


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header (401 when absent or malformed)."""
    if not authorization:
        raise AuthenticationFailed("A bearer token is required.", error=None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "The Authorization header must be 'Bearer <token>'.", error="invalid_request"
        )
    return token.strip()


async def authenticate(request: Request, authorization: str | None) -> Principal:
    """Verify the bearer token once per request and return the caller (429 past a machine client's
    limit). The answer is kept on the request: every dependency that asks gets the same caller."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal: Principal = await request.app.state.token_verifier.verify(bearer_token(authorization))
    if principal.is_machine:
        # Partners and BI clients are limited per client id (per worker process; see app.web.ratelimit).
        limit_machine_client(request.app.state, principal.client_id)
    request.state.principal = principal
    return principal


def sends_credentials(request: Request) -> bool:
    """Whether the request says who is calling: the one definition of an anonymous request (one that
    does not). ``optional_principal`` verifies exactly what this sees, and the answer cache shares an
    answer only between requests for which this is false (``app.web.answer_cache``): a new way to
    sign in (a cookie, a token parameter) is added here, or the cache would keep a signed-in caller's
    answer for everyone."""
    return "authorization" in request.headers


async def optional_principal(request: Request, authorization: str | None) -> Principal | None:
    """The caller when the request sends credentials (verified as usual, 401 when bad, an empty
    ``Authorization`` header too); None when anonymous (``sends_credentials``)."""
    if not sends_credentials(request):
        return None
    return await authenticate(request, authorization)


async def request_caller(request: Request) -> Principal:
    """The caller of a request whose route already declares its caller (``Security(caller...)``):
    the principal verified for it, or the token of its ``Authorization`` header (the header the
    route's OAuth2 scheme reads) verified now. For dependencies that need the caller without being
    a node of FastAPI's dependency tree of their own."""
    return await authenticate(request, request.headers.get("authorization"))
