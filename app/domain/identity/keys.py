"""Token signing keys: generated, wrapped with the service's secret key, kept in the database, rotated.

The newest unretired key signs; every unretired key is published at /.well-known/jwks.json so tokens
signed just before a rotation still verify. ``retire_old_keys`` retires keys once every token they
could have signed has expired. Processes pick up a rotation within ``KEYRING_MAX_AGE`` seconds
(app.domain.identity.tokens), which the retirement cut-off allows for.

Also here: fetching the JWKS of an external OpenID Connect issuer.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import Any

import httpx
from cryptography.fernet import Fernet
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db import Database
from app.domain.base import utcnow
from app.domain.errors import ServiceUnavailable
from app.domain.identity.models import SigningKey
from app.settings import Settings

SIGNING_ALGORITHMS = ("ES256", "RS256")
# A process reloads its keys at least this often (seconds), so a rotation elsewhere reaches it.
KEYRING_MAX_AGE = 60.0


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(("wijkwerk-signing-keys:" + secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def generate_key(alg: str) -> ECKey | RSAKey:
    if alg not in SIGNING_ALGORITHMS:
        raise ValueError(f"unsupported signing algorithm {alg}; use one of {SIGNING_ALGORITHMS}")
    kid = secrets.token_urlsafe(12)
    parameters: Any = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, private=True)
    return RSAKey.generate_key(3072, parameters=parameters, private=True)


async def rotate(session: AsyncSession, alg: str, secret_key: str) -> str:
    """Add a new signing key; it signs from now on. Returns its kid."""
    key = generate_key(alg)
    pem = key.as_pem(private=True)
    session.add(
        SigningKey(
            kid=str(key.kid),
            alg=alg,
            private_key_encrypted=_fernet(secret_key).encrypt(pem).decode(),
            public_jwk=key.as_dict(private=False),
        )
    )
    await session.flush()
    return str(key.kid)


async def retire_old_keys(session: AsyncSession, token_ttl_seconds: int) -> int:
    """Retire every key but the newest once tokens it signed can no longer be valid."""
    active = await _active_keys(session)
    if len(active) <= 1:
        return 0
    newest = active[0]
    # Other processes may sign with the previous key until they reload (KEYRING_MAX_AGE).
    cutoff = newest.created_at + timedelta(seconds=token_ttl_seconds + KEYRING_MAX_AGE)
    if utcnow() < cutoff:
        return 0
    result = await session.execute(
        update(SigningKey)
        .where(col(SigningKey.retired_at).is_(None), col(SigningKey.kid) != newest.kid)
        .values(retired_at=utcnow())
        .returning(col(SigningKey.kid))
    )
    return len(result.all())


async def _active_keys(session: AsyncSession) -> list[SigningKey]:
    result = await session.execute(
        select(SigningKey)
        .where(col(SigningKey.retired_at).is_(None))
        .order_by(col(SigningKey.created_at).desc())
    )
    return list(result.scalars())


class KeyRing:
    """The keys of this process: the current signing key and the public key set, loaded from the DB."""

    def __init__(self, signing_key: ECKey | RSAKey, public: KeySet, public_dicts: list[dict[str, Any]]):
        self.signing_key = signing_key
        self.public = public
        self.public_dicts = public_dicts

    @property
    def kids(self) -> set[str]:
        return {str(k["kid"]) for k in self.public_dicts}

    @classmethod
    async def load(cls, session: AsyncSession, alg: str, secret_key: str) -> KeyRing:
        """Load the keys, creating the first one on a fresh database."""
        keys = await _active_keys(session)
        if not keys:
            await rotate(session, alg, secret_key)
            keys = await _active_keys(session)
        newest = keys[0]
        pem = _fernet(secret_key).decrypt(newest.private_key_encrypted.encode())
        key_type = ECKey if newest.alg == "ES256" else RSAKey
        signing = key_type.import_key(pem, parameters={"kid": newest.kid, "alg": newest.alg, "use": "sig"})
        public_dicts = [dict(k.public_jwk) for k in keys]
        key_set: Any = {"keys": public_dicts}
        return cls(signing, KeySet.import_key_set(key_set), public_dicts)


async def public_jwks(session: AsyncSession) -> dict[str, Any]:
    """The JWK Set of every unretired key, newest first (what /.well-known/jwks.json serves)."""
    return {"keys": [dict(k.public_jwk) for k in await _active_keys(session)]}


async def rotate_signing_key(db: Database, settings: Settings) -> str:
    """Retire keys whose tokens have all expired, then add a new signing key. Returns the new kid.

    For ``wijkwerk keys rotate``: the new key signs from now on (other processes switch within
    ``KEYRING_MAX_AGE``); tokens signed with the previous key keep verifying until it is retired, at
    the first rotation or ``retire_signing_keys`` after the token lifetime has passed.
    """
    async with db.transaction() as session:
        await retire_old_keys(session, settings.access_token_ttl_seconds)
        return await rotate(session, settings.signing_alg, settings.secret("secret_key"))


async def retire_signing_keys(db: Database, settings: Settings) -> int:
    """Retire every key but the newest once no token they signed can still be valid."""
    async with db.transaction() as session:
        return await retire_old_keys(session, settings.access_token_ttl_seconds)


# -- external OpenID Connect issuer ----------------------------------------------------------------

EXTERNAL_FETCH_TIMEOUT = 5.0


async def fetch_external_jwks(settings: Settings) -> dict[str, Any]:
    """The external issuer's JWK Set: from ``oidc_jwks_url``, or its discovery document's jwks_uri."""
    issuer = str(settings.oidc_issuer or "")
    try:
        async with httpx.AsyncClient(timeout=EXTERNAL_FETCH_TIMEOUT, follow_redirects=False) as http:
            if not settings.oidc_jwks_url:
                _require_https(settings, issuer)
            url = settings.oidc_jwks_url or await _discover_jwks_uri(http, issuer)
            _require_https(settings, url)
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            jwks = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise ServiceUnavailable("The identity provider's signing keys cannot be fetched.") from error
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ServiceUnavailable("The identity provider published no usable key set.")
    return jwks


async def _discover_jwks_uri(http: httpx.AsyncClient, issuer: str) -> str:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = await http.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    document = response.json()
    # OpenID Connect Discovery §4.3: the document must name exactly the issuer we asked.
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        raise ValueError("discovery document names another issuer")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise ValueError("discovery document has no jwks_uri")
    return jwks_uri


def _require_https(settings: Settings, url: str) -> None:
    if settings.is_production and not url.startswith("https://"):
        raise ValueError("external OpenID Connect endpoints must be https in production")
