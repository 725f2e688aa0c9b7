"""RFC 9068 JWT access tokens: issued by the built-in server, verified by the resource server.

Verification accepts our own tokens (keys from the database) and, when configured, tokens of an
external OpenID Connect issuer (keys from its JWKS), whose claims are mapped to a Wijkwerk role.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from app.auth.errors import AuthenticationFailed
from app.auth.keys import SIGNING_ALGORITHMS, KeyRing
from app.auth.principal import Principal
from app.auth.scopes import Role, allowed_scopes
from app.settings import Settings

ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
# Reload keys on an unknown kid at most this often, so forged kids cannot hammer the database.
KEY_RELOAD_INTERVAL = 30.0


def issue_access_token(
    keyring: KeyRing,
    settings: Settings,
    *,
    subject: str,
    client_id: str,
    role: Role,
    scopes: set[str],
    extra: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """Sign an access token. Returns the token and its lifetime in seconds."""
    now = int(time.time())
    ttl = settings.access_token_ttl_seconds
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "client_id": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(16),
        "scope": " ".join(sorted(scopes)),
        "role": str(role),
    }
    claims.update(extra or {})
    header = {"alg": keyring.signing_key.alg, "typ": "at+jwt", "kid": keyring.signing_key.kid}
    return jwt.encode(header, claims, keyring.signing_key, algorithms=list(SIGNING_ALGORITHMS)), ttl


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class TokenVerifier:
    """Checks signature (JWKS, algorithm allowlist), ``typ``, ``iss``, ``aud``, ``exp`` with leeway."""

    def __init__(
        self,
        settings: Settings,
        load_keyring: Callable[[], Awaitable[KeyRing]],
        fetch_external_jwks: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.settings = settings
        self._load_keyring = load_keyring
        self._fetch_external_jwks = fetch_external_jwks
        self.keyring: KeyRing | None = None
        self._external_keys: KeySet | None = None
        self._last_reload: dict[str, float] = {}

    async def keys(self) -> KeyRing:
        if self.keyring is None:
            self.keyring = await self._load_keyring()
        return self.keyring

    async def verify(self, token: str) -> Principal:
        header = self._header(token)
        issuer = self._unverified_issuer(token)
        external = self.settings.oidc_issuer is not None and issuer == self.settings.oidc_issuer
        key_set = await (self._external_key_set(header) if external else self._own_key_set(header))
        try:
            decoded = jwt.decode(token, key_set, algorithms=list(SIGNING_ALGORITHMS))
        except (JoseError, ValueError) as error:
            raise AuthenticationFailed("The access token signature is not valid.") from error
        claims = decoded.claims
        self._validate_claims(claims, external)
        return self._external_principal(claims) if external else self._own_principal(claims)

    # -- header and key lookup ------------------------------------------------------------------

    @staticmethod
    def _header(token: str) -> dict[str, Any]:
        try:
            from joserfc import jws

            header = dict(jws.extract_compact(token.encode()).protected)
        except (JoseError, ValueError, TypeError) as error:
            raise AuthenticationFailed("The access token is malformed.") from error
        if header.get("alg") not in SIGNING_ALGORITHMS:
            raise AuthenticationFailed("The access token algorithm is not allowed.")
        return header

    @staticmethod
    def _unverified_issuer(token: str) -> str | None:
        from joserfc import jws

        try:
            import json

            payload = json.loads(jws.extract_compact(token.encode()).payload)
        except (JoseError, ValueError, TypeError) as error:
            raise AuthenticationFailed("The access token is malformed.") from error
        return payload.get("iss") if isinstance(payload, dict) else None

    def _may_reload(self, which: str) -> bool:
        now = time.monotonic()
        if now - self._last_reload.get(which, 0.0) < KEY_RELOAD_INTERVAL:
            return False
        self._last_reload[which] = now
        return True

    async def _own_key_set(self, header: dict[str, Any]) -> KeySet:
        ring = await self.keys()
        if header.get("kid") not in ring.kids and self._may_reload("own"):
            self.keyring = ring = await self._load_keyring()  # a key rotated in another process
        if header.get("kid") not in ring.kids:
            raise AuthenticationFailed("The access token was signed with an unknown key.")
        return ring.public

    async def _external_key_set(self, header: dict[str, Any]) -> KeySet:
        if self._fetch_external_jwks is None:
            raise AuthenticationFailed("The token issuer is not trusted.")
        kids = {k.kid for k in self._external_keys.keys} if self._external_keys else set()
        if header.get("kid") not in kids and (self._external_keys is None or self._may_reload("external")):
            jwks: Any = await self._fetch_external_jwks()
            self._external_keys = KeySet.import_key_set(jwks)
            kids = {k.kid for k in self._external_keys.keys}
        if self._external_keys is None or header.get("kid") not in kids:
            raise AuthenticationFailed("The access token was signed with an unknown key.")
        return self._external_keys

    # -- claims ---------------------------------------------------------------------------------

    def _validate_claims(self, claims: dict[str, Any], external: bool) -> None:
        settings = self.settings
        issuer = settings.oidc_issuer if external else settings.issuer
        audience = (settings.oidc_audience or settings.audience) if external else settings.audience
        registry = JWTClaimsRegistry(
            leeway=settings.token_leeway_seconds,
            iss={"essential": True, "value": str(issuer)},
            aud={"essential": True, "value": str(audience)},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise AuthenticationFailed(f"The access token is not valid here ({error.error}).") from error

    def _own_principal(self, claims: dict[str, Any]) -> Principal:
        try:
            role = Role(claims["role"])
        except (KeyError, ValueError) as error:
            raise AuthenticationFailed("The access token carries no known role.") from error
        scopes = set(str(claims.get("scope", "")).split()) & allowed_scopes(role, bsn_read=True)
        return Principal(
            subject=str(claims["sub"]),
            role=role,
            scopes=frozenset(scopes),
            client_id=str(claims.get("client_id", "")),
            token_id=str(claims.get("jti", "")),
            user_id=_uuid_or_none(claims.get("user_id")),
            worker_id=_uuid_or_none(claims.get("worker_id")),
            organisation_id=_uuid_or_none(claims.get("organisation_id")),
            teams=tuple(t for t in (_uuid_or_none(v) for v in claims.get("teams", [])) if t),
        )

    def _external_principal(self, claims: dict[str, Any]) -> Principal:
        """Map an external IdP's claims to a role. People only: machine clients use our own server."""
        raw = claims.get(self.settings.oidc_role_claim, [])
        values = raw if isinstance(raw, list) else [raw]
        roles = [self.settings.oidc_role_map[v] for v in values if v in self.settings.oidc_role_map]
        if not roles:
            raise AuthenticationFailed("The access token maps to no Wijkwerk role.")
        role = Role(roles[0])
        requested = set(str(claims.get("scope", "")).split())
        scopes = allowed_scopes(role) & requested if requested else allowed_scopes(role)
        subject = str(claims.get(self.settings.oidc_subject_claim) or claims["sub"])
        return Principal(
            subject=f"oidc:{subject}",
            role=role,
            scopes=frozenset(scopes),
            client_id=str(claims.get("client_id") or claims.get("azp") or "external"),
            token_id=str(claims.get("jti", "")),
        )
