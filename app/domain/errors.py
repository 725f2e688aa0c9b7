"""Domain errors: plain exceptions raised by services, mapped to HTTP in one place (app/api/problems.py).

Messages are written for the caller and must never contain submitted personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One broken rule on one field: ``loc`` is the path, e.g. ``("body", "members", 0, "bsn")``."""

    loc: tuple[str | int, ...]
    message: str
    rule: str = "invalid"


class DomainError(Exception):
    """Base class. ``rule`` is a stable machine-readable name of the rule that was broken."""

    rule: str = "domain_error"

    def __init__(self, detail: str, *, rule: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if rule is not None:
            self.rule = rule


class NotFound(DomainError):
    """The object does not exist, or the caller may not know it does (both answer alike)."""

    rule = "not_found"

    def __init__(self, what: str = "resource") -> None:
        super().__init__(f"The {what} was not found.")
        self.what = what


class Forbidden(DomainError):
    """The caller is known but this kind of action is not theirs (never used to hide an object)."""

    rule = "forbidden"


class Conflict(DomainError):
    """The request breaks a rule of the object's current state (illegal transition, invariant)."""

    rule = "conflict"


class PreconditionRequired(DomainError):
    rule = "if_match_required"


class PreconditionFailed(DomainError):
    rule = "stale_version"


@dataclass
class ValidationFailed(DomainError):
    """Input that parses but breaks a domain rule; carries one entry per field."""

    errors: list[FieldError] = field(default_factory=list)
    detail: str = "The request breaks one or more rules."
    rule: str = "validation"

    def __post_init__(self) -> None:
        Exception.__init__(self, self.detail)


class RateLimited(DomainError):
    rule = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests for this client; retry later.")
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    rule = "service_unavailable"

    def __init__(
        self, detail: str = "The database is not reachable; retry shortly.", retry_after: int = 5
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
