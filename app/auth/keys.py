"""Token signing keys: generated, wrapped with the service's secret key, kept in the database, rotated.

The newest unretired key signs; every unretired key is published at /.well-known/jwks.json so tokens
signed just before a rotation still verify. ``retire_old_keys`` retires keys once every token they
could have signed has expired.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import utcnow
from app.domain.organisation.models import SigningKey

SIGNING_ALGORITHMS = ("ES256", "RS256")


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
    cutoff = newest.created_at + timedelta(seconds=token_ttl_seconds + 60)
    if utcnow() < cutoff:
        return 0
    result = await session.execute(
        update(SigningKey)
        .where(col(SigningKey.retired_at).is_(None), col(SigningKey.kid) != newest.kid)
        .values(retired_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
