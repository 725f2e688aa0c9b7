"""Headers on every HTTP answer, whatever answered it (a route, an error handler, routing's 404, the
500 of an unexpected error): the API version and the transport-security headers.

* ``API-Version``: NL GOV API Design Rules /core/version-header, the full semantic version.
* The security headers of the NL GOV Transport Security module (/transport/security-headers):
  ``Cache-Control: no-store`` (answers carry personal data: no cache may keep them),
  ``Content-Security-Policy: frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (no page may
  frame an answer), ``X-Content-Type-Options: nosniff`` (browsers take the declared type), and
  ``Strict-Transport-Security`` (browsers ignore it over plain HTTP, RFC 6797 §8.1; behind TLS it
  keeps them on https).

A header an answer sets itself wins (e.g. a ``Cache-Control`` of its own); ``X-Request-ID`` is always
the request's (``app.web.observability``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SECURITY_HEADERS: dict[str, str] = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000",
}

Header = tuple[bytes, bytes]
REQUEST_ID = b"x-request-id"


def answer_headers(api_version: str) -> dict[str, str]:
    """Every answer's headers for an API of ``api_version``."""
    return {"API-Version": api_version, **SECURITY_HEADERS}


def encoded(headers: dict[str, str]) -> list[Header]:
    """``headers`` as an ASGI answer carries them (lower-case names, bytes)."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def completed(headers: Iterable[Header], every_answer: Sequence[Header], request_id: bytes) -> list[Header]:
    """An answer's headers as sent: its own, then each of ``every_answer`` it does not set itself,
    then ``X-Request-ID`` (in place of any the answer set). Made once per answer, in one pass, by the
    outermost middleware (``app.web.observability``), so it covers whatever answered."""
    present: set[bytes] = set()
    kept: list[Header] = []
    for name, value in headers:
        lower = name.lower()
        present.add(lower)
        if lower != REQUEST_ID:
            kept.append((name, value))
    kept += [header for header in every_answer if header[0] not in present]
    kept.append((REQUEST_ID, request_id))
    return kept
