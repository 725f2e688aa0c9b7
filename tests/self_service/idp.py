"""A municipality's broker standing in for DigiD: it signs access tokens with a key the test holds and
publishes the public key as a JWKS over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

DIGID_MIDDEN = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
DIGID_BASIS = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def new_key() -> ECKey:
    parameters: Any = {"kid": uuid.uuid4().hex, "alg": "ES256", "use": "sig"}
    return ECKey.generate_key("P-256", parameters=parameters, private=True)


class Broker:
    def __init__(self, issuer: str = "") -> None:
        self.key = new_key()
        self.issuer = issuer

    def token(self, *, key: ECKey | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": "wijkwerk-api",
            "sub": uuid.uuid4().hex,  # a pseudonym per sign-in, as some brokers do
            "azp": "mijn-gemeente",
            "iat": now,
            "exp": now + 300,
            "acr": DIGID_MIDDEN,
            **claims,
        }
        signer = key or self.key
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": signer.kid}, body, signer)


@contextmanager
def serving(broker: Broker) -> Iterator[Broker]:
    """The broker's JWKS at ``<issuer>/keys`` for as long as the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            payload = json.dumps({"keys": [broker.key.as_dict(private=False)]}).encode()
            self.send_response(200 if self.path == "/keys" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    broker.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield broker
    finally:
        server.shutdown()
        server.server_close()
