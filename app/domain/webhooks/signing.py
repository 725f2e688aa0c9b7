"""Standard Webhooks signing (webhook-id, webhook-timestamp, webhook-signature) and secret storage.

Secrets look like ``whsec_<base64>`` (the form the ``standardwebhooks`` package and Svix use). They are
kept encrypted with a key derived from the service's secret key; during a rotation a message carries
one signature per live secret, so receivers accept it whichever secret they hold.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from cryptography.fernet import Fernet
from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class SecretBox:
    """Encrypts and decrypts webhook secrets with a key derived from the service's secret key."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(("wijkwerk-webhook-secrets:" + secret_key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()


def signature_headers(
    message_id: str, timestamp: datetime, body: str, secrets_: Iterable[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers; one ``v1,<sig>`` per secret, space separated."""
    signatures = " ".join(Webhook(s).sign(message_id, timestamp, body) for s in secrets_)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
