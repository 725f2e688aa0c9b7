"""Pure rules of the household case file (no database): the status lifecycle, closing, reopening,
confidentiality, postcodes and the server-made reference. Unit-tested in tests/households/test_rules.py.

Lifecycle::

    registered -> intake -> active -> aftercare -> closed
    aftercare  -> active                  (support is needed again)
    any open status -> closed             (with a closing reason; e.g. support declined at intake)
    closed     -> intake                  (reopening: team leads only)

Reopening is a team lead's decision (scope ``cases:assign``) because it brings a closed file back into
the team's caseload; the file starts again at intake, and the closing reason and date are cleared
(the history stays in the access log and the change feed).
"""

from __future__ import annotations

import secrets

from app.domain.areas.rules import normalise_postcode as normalise_postcode
from app.domain.errors import Conflict, FieldError, Forbidden, ValidationFailed
from app.domain.households.models import HouseholdStatus

S = HouseholdStatus

TRANSITIONS: dict[HouseholdStatus, frozenset[HouseholdStatus]] = {
    S.registered: frozenset({S.intake, S.closed}),
    S.intake: frozenset({S.active, S.closed}),
    S.active: frozenset({S.aftercare, S.closed}),
    S.aftercare: frozenset({S.active, S.closed}),
    S.closed: frozenset({S.intake}),
}


def check_transition(
    current: HouseholdStatus,
    target: HouseholdStatus,
    *,
    closing_reason: str | None,
    may_reopen: bool,
) -> None:
    """Raise when ``current -> target`` breaks the lifecycle; a no-op for ``current == target``."""
    if target is not S.closed and closing_reason is not None:
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "closing_reason"),
                    "A closing reason is only given when closing.",
                    "closing_reason_only_when_closing",
                )
            ]
        )
    if current is target:
        return
    if target not in TRANSITIONS[current]:
        raise Conflict(
            f"A household cannot go from {current} to {target}.", rule="status_transition_not_allowed"
        )
    if target is S.closed and closing_reason is None:
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "closing_reason"), "Closing needs a closing reason.", "closing_reason_required"
                )
            ]
        )
    if current is S.closed and not may_reopen:
        raise Forbidden("Only a team lead can reopen a closed household.", rule="reopen_needs_team_lead")


def ensure_open(status: str) -> None:
    """Closed files are read-only (until a team lead reopens them)."""
    if status == S.closed:
        raise Conflict("The household is closed; a team lead can reopen it.", rule="household_closed")


def check_confidentiality_change(current: bool, target: bool, *, may_assign: bool) -> None:
    """Anyone in the file may protect it; lifting protection widens access, so it is a lead's call."""
    if current and not target and not may_assign:
        raise Forbidden(
            "Only a team lead can lift the confidential flag.",
            rule="lifting_confidentiality_needs_team_lead",
        )


_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_reference() -> str:
    """A reference a worker can read out on the phone: ``HH-`` and 8 unambiguous characters."""
    return "HH-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
