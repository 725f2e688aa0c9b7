"""Citizen service numbers (BSN): validated with the eleven-test, encrypted at rest, blind-indexed.

* ``bsn_ciphertext`` = version byte + 12-byte nonce + AES-256-GCM ciphertext; the member id is the
  associated data, so a ciphertext copied onto another member's row does not decrypt.
* ``bsn_index`` = HMAC-SHA256 over the 9 digits with a separate key: exact-match search without the
  number itself in the database.
* Both keys are derived (HKDF-SHA256) from ``settings.secret("bsn_encryption_key")`` and
  ``settings.secret("bsn_index_key")``.

Error messages name the field and the rule and never repeat the number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from stdnum import exceptions as stdnum_errors
from stdnum.nl import bsn as stdnum_bsn

from app.settings import Settings

_VERSION = b"\x01"
_NONCE_BYTES = 12


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wijkwerk-bsn", info=info).derive(secret.encode())


class BsnInvalid(ValueError):
    """A rejected BSN: ``rule`` is ``bsn_format`` or ``bsn_checksum``; the message never holds it."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def check_bsn(raw: str) -> str:
    """The 9-digit BSN (spaces and dots allowed in the input), or ``BsnInvalid``."""
    compact = "".join(raw.split()).replace(".", "")  # stdnum's compact would zero-pad short input
    if len(compact) != 9 or not compact.isdigit():
        raise BsnInvalid("bsn_format", "A BSN has 9 digits.")
    try:
        return str(stdnum_bsn.validate(compact))
    except stdnum_errors.InvalidChecksum:
        raise BsnInvalid("bsn_checksum", "The BSN fails the eleven-test.") from None
    except stdnum_errors.ValidationError:
        raise BsnInvalid("bsn_format", "A BSN has 9 digits.") from None


def mask(bsn: str) -> str:
    """Enough for a person to recognise their number, not enough to use it."""
    return "******" + bsn[-3:]


class BsnProtector:
    def __init__(self, encryption_secret: str, index_secret: str) -> None:
        self._aead = AESGCM(_derive(encryption_secret, b"bsn-encryption-v1"))
        self._index_key = _derive(index_secret, b"bsn-blind-index-v1")

    def encrypt(self, bsn: str, member_id: uuid.UUID) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, bsn.encode(), member_id.bytes)

    def decrypt(self, blob: bytes, member_id: uuid.UUID) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown BSN ciphertext version")
        nonce, ciphertext = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ciphertext, member_id.bytes).decode()
        except InvalidTag as error:
            raise ValueError("BSN ciphertext does not belong to this member") from error

    def index(self, bsn: str) -> str:
        return hmac.new(self._index_key, bsn.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _protector(encryption_secret: str, index_secret: str) -> BsnProtector:
    return BsnProtector(encryption_secret, index_secret)


def protector(settings: Settings) -> BsnProtector:
    return _protector(settings.secret("bsn_encryption_key"), settings.secret("bsn_index_key"))
