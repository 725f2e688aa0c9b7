"""Headers on every HTTP answer, whatever answered it (a route, an error handler, routing's 404, the
500 of an unexpected error): the API version and the transport-security headers.

* ``API-Version``: NL GOV API Design Rules /core/version-header, the full semantic version.
* The security headers of the NL GOV Transport Security module (/transport/security-headers):
  ``Cache-Control: no-store`` (answers carry personal data: no cache may keep them),
  ``Content-Security-Policy: frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (no page may
  frame an answer), ``X-Content-Type-Options: nosniff`` (browsers take the declared type), and
  ``Strict-Transport-Security`` (browsers ignore it over plain HTTP, RFC 6797 §8.1; behind TLS it
  keeps them on https).

A header an answer sets itself wins (e.g. a ``Cache-Control`` of its own).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: dict[str, str] = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000",
}


class ResponseHeaders:
    """Pure ASGI middleware adding ``headers`` to every HTTP answer that does not set them."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def answer_headers(api_version: str) -> dict[str, str]:
    """Every answer's headers for an API of ``api_version``."""
    return {"API-Version": api_version, **SECURITY_HEADERS}
