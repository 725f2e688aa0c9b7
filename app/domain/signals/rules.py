"""The policy-signal lifecycle, as pure rules tested without a database.

    draft -> submitted -> in_consideration -> answered -> closed

A worker of the team writes the draft; a team lead of the team submits it (bringing it to the team
leads' meeting, optionally bundling similar submitted signals of other teams into it); the
municipality's policy staff take it into consideration, answer it (exemption granted for these
cases / policy will change / no change, with the reasoning) and close it with the outcome (what
changed, from when). A signal bundled into another moves only with that one.
"""

from __future__ import annotations

from datetime import date

from app.domain.errors import Conflict, FieldError, Forbidden, ValidationFailed
from app.domain.signals.models import SignalAnswer, SignalStatus
from app.security.scopes import Role

S = SignalStatus

NEXT: dict[SignalStatus, SignalStatus | None] = {
    S.draft: S.submitted,
    S.submitted: S.in_consideration,
    S.in_consideration: S.answered,
    S.answered: S.closed,
    S.closed: None,
}
# Who takes each step: team leads submit, policy staff do the rest.
STEP_ROLE: dict[SignalStatus, Role] = {
    S.submitted: Role.team_lead,
    S.in_consideration: Role.policy_officer,
    S.answered: Role.policy_officer,
    S.closed: Role.policy_officer,
}
# Texts a decision takes: answered needs the answer and its reasoning, closed the outcome and its date.
DECISION_FIELDS: dict[SignalStatus, tuple[str, ...]] = {
    S.in_consideration: (),
    S.answered: ("answer", "reasoning"),
    S.closed: ("outcome", "outcome_from"),
}


def check_step(current: SignalStatus, target: SignalStatus, role: Role, *, bundled: bool) -> None:
    """Raise the error naming the broken rule, or return when ``role`` may move the signal on."""
    if bundled:
        raise Conflict(
            "This signal is bundled into another one and follows it; act on that one.",
            rule="signal_bundled",
        )
    if NEXT[current] is not target:
        following = NEXT[current]
        allowed = str(following) if following else "nothing (it is closed)"
        raise Conflict(
            f"A signal that is {current} cannot become {target}; it can become: {allowed}.",
            rule="signal_lifecycle",
        )
    if role is not STEP_ROLE[target]:
        who = "a team lead of its team" if STEP_ROLE[target] is Role.team_lead else "the policy staff"
        raise Forbidden(f"Only {who} can make a signal {target}.", rule="signal_step_role")


def check_decision(
    target: SignalStatus,
    *,
    answer: SignalAnswer | None,
    reasoning: str | None,
    outcome: str | None,
    outcome_from: date | None,
) -> None:
    """Exactly the fields the target status takes (field errors for missing and for extra ones)."""
    given = {"answer": answer, "reasoning": reasoning, "outcome": outcome, "outcome_from": outcome_from}
    wanted = DECISION_FIELDS[target]
    errors = [
        FieldError(("body", name), f"Required to make a signal {target}.", f"{name}_required")
        for name in wanted
        if given[name] is None
    ] + [
        FieldError(("body", name), f"Not taken when making a signal {target}.", "not_applicable")
        for name, value in given.items()
        if name not in wanted and value is not None
    ]
    if errors:
        raise ValidationFailed(errors)


def check_editable(status: SignalStatus) -> None:
    """Only a draft is edited: what the meeting and the policy staff saw does not change under them."""
    if status is not S.draft:
        raise Conflict("Only a draft signal can be changed.", rule="signal_not_draft")


def check_bundle(lead_id: object, candidates: dict[object, tuple[SignalStatus, bool, bool]]) -> None:
    """Each signal to bundle is submitted, not bundled already, leads no bundle itself, and is not the
    lead. ``candidates``: id -> (status, bundled into another, has signals bundled into it)."""
    errors: list[FieldError] = []
    for i, (signal_id, (status, bundled, leads)) in enumerate(candidates.items()):
        if signal_id == lead_id:
            errors.append(
                FieldError(("body", "bundle", i), "A signal is not bundled into itself.", "bundle_self")
            )
        elif status is not S.submitted or bundled or leads:
            errors.append(
                FieldError(
                    ("body", "bundle", i),
                    "Only a submitted signal that is not in a bundle is bundled.",
                    "bundle_not_submitted",
                )
            )
    if errors:
        raise ValidationFailed(errors)
