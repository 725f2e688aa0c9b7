"""Password and client-secret hashing (argon2id): one ``SecretHasher``, chosen by the settings.

The app factory and the command line build it once from ``Settings.password_hashing`` and hand it to
whatever hashes or verifies: the login page, client authentication at the token endpoint, the account
use cases and the demo loader. Production hashes at argon2-cffi's defaults (RFC 9106's low-memory
profile: tens of milliseconds of CPU and 64 MiB per hash, on purpose). The ``fast`` profile, which
settings refuse in production, hashes at the library's cheapest parameters, so a test suite that makes
hundreds of people does not spend its time hashing their passwords.

An argon2 hash carries its own parameters, so verifying does not depend on the profile: a hash made
at production cost verifies under ``fast`` and the other way round.
"""

from __future__ import annotations

import asyncio

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from app.settings import PasswordHashing, Settings

MAX_SECRET_LENGTH = 1024

PROFILES: dict[PasswordHashing, Parameters] = {
    PasswordHashing.argon2id: profiles.RFC_9106_LOW_MEMORY,  # what PasswordHasher() uses by default
    PasswordHashing.fast: profiles.CHEAPEST,  # argon2-cffi: "only for testing"
}


class SecretHasher:
    """Hashes secrets with one set of argon2id parameters; verifies a hash made with any."""

    def __init__(self, parameters: Parameters) -> None:
        self.parameters = parameters
        self._hasher = PasswordHasher.from_parameters(parameters)
        # Verified against when the user does not exist, so timing does not reveal which usernames
        # exist: made with this hasher's parameters, it costs what a real user's hash costs.
        self._dummy_hash = self._hasher.hash("wijkwerk-no-such-user")

    @classmethod
    def for_settings(cls, settings: Settings) -> SecretHasher:
        return cls(PROFILES[settings.password_hashing])

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, stored_hash: str | None, secret: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, secret) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    async def verify_in_thread(self, stored_hash: str | None, secret: str) -> bool:
        """``verify`` off the event loop: argon2 takes tens of milliseconds of CPU by design."""
        # Bounded input: a megabyte-long "password" is refused, after the same work as any other.
        too_long = len(secret) > MAX_SECRET_LENGTH
        stored = None if too_long else stored_hash
        return await asyncio.to_thread(self.verify, stored, secret[:MAX_SECRET_LENGTH])

    async def hash_in_thread(self, secret: str) -> str:
        """``hash`` off the event loop: argon2 takes tens of milliseconds of CPU by design."""
        return await asyncio.to_thread(self.hash, secret)
