"""Errors of the resource server (RFC 6750): mapped to 401/403 problem+json with WWW-Authenticate."""

from __future__ import annotations


class AuthenticationFailed(Exception):
    """No usable bearer token: missing, malformed, forged, expired, for another audience."""

    def __init__(
        self, detail: str = "A valid bearer token is required.", *, error: str | None = "invalid_token"
    ):
        super().__init__(detail)
        self.detail = detail
        self.error = error  # None when no token was sent at all (RFC 6750 §3.1)


class InsufficientScope(Exception):
    """A valid token without the scope this route needs."""

    def __init__(self, required: list[str]) -> None:
        super().__init__("The access token lacks a scope this request needs.")
        self.detail = str(self)
        self.required = required
