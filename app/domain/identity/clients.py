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

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import sqlalchemy as sa
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
)
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.identity.models import ClientAuthMethod, OAuthClient, UsedClientAssertion
from app.domain.identity.passwords import SecretHasher
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


async def load_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    # Ids come from headers and unverified JWTs too: nothing PostgreSQL text would choke on (NUL).
    if len(client_id) > 80 or any(ord(c) < 0x20 for c in client_id):
        return None
    result = await session.execute(select(OAuthClient).where(OAuthClient.client_id == client_id))
    return result.scalar_one_or_none()


async def authenticate_client(
    session: AsyncSession,
    settings: Settings,
    hasher: SecretHasher,
    presented: PresentedCredentials,
    client: OAuthClient | None,
) -> OAuthClient:
    """The client, once its credentials check out with its registered method; else invalid_client."""
    if presented.method is ClientAuthMethod.client_secret_basic:
        # Verify even for an unknown client, so timing does not tell which client ids exist.
        valid = await hasher.verify_in_thread(client.secret_hash if client else None, presented.secret or "")
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
        # The stored JWK Set was checked when it was registered (rules.check_jwks); a damaged one
        # still fails here, as a signature that cannot be verified.
        keys = KeySet.import_key_set(cast(KeySetSerialization, client.jwks or {"keys": []}))
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
