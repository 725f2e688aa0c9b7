"""Password and client-secret hashing (argon2id)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_SECRET_LENGTH = 1024
_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("wijkwerk-no-such-user")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_secret_in_thread(stored_hash: str | None, secret: str) -> bool:
    """``verify_secret`` off the event loop: argon2 takes tens of milliseconds of CPU by design."""
    # Bounded input: a megabyte-long "password" is refused, after the same work as any other.
    too_long = len(secret) > MAX_SECRET_LENGTH
    stored = None if too_long else stored_hash
    return await asyncio.to_thread(verify_secret, stored, secret[:MAX_SECRET_LENGTH])


async def hash_secret_in_thread(secret: str) -> str:
    """``hash_secret`` off the event loop: argon2 takes tens of milliseconds of CPU by design."""
    return await asyncio.to_thread(hash_secret, secret)
