"""The referral lifecycle (modelled on FHIR Task), as pure rules tested without a database.

    submitted -> accepted | declined | cancelled
    accepted  -> in_progress | cancelled
    in_progress -> completed | cancelled

The recipient (the team for inbound referrals, the partner for outbound ones) accepts, declines,
starts and completes; the sender cancels. Once the work has started the recipient may cancel too.
A reason is required for declined and cancelled, an outcome for completed (it goes back to the sender).
"""

from __future__ import annotations

from datetime import date

from app.domain.errors import Conflict, FieldError, Forbidden, ValidationFailed
from app.domain.households.models import MemberRole
from app.domain.referrals.models import Direction, ReferralStatus, Side

S = ReferralStatus

ALLOWED: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.submitted: frozenset({S.accepted, S.declined, S.cancelled}),
    S.accepted: frozenset({S.in_progress, S.cancelled}),
    S.in_progress: frozenset({S.completed, S.cancelled}),
    S.declined: frozenset(),
    S.completed: frozenset(),
    S.cancelled: frozenset(),
}
TERMINAL = frozenset(s for s, targets in ALLOWED.items() if not targets)
NEEDS_REASON = frozenset({S.declined, S.cancelled})


def sender(direction: Direction) -> Side:
    return Side.partner if direction is Direction.inbound else Side.team


def recipient(direction: Direction) -> Side:
    return Side.team if direction is Direction.inbound else Side.partner


def may_perform(direction: Direction, current: ReferralStatus, target: ReferralStatus, side: Side) -> bool:
    if target is S.cancelled:
        return side is sender(direction) or current is not S.submitted
    return side is recipient(direction)


def is_allowed(current: ReferralStatus, target: ReferralStatus) -> bool:
    return target in ALLOWED[current]


def check_transition(
    *,
    direction: Direction,
    current: ReferralStatus,
    target: ReferralStatus,
    side: Side,
    reason: str | None,
    outcome: str | None,
) -> None:
    """Raise the error naming the broken rule, or return when the transition may happen."""
    if not is_allowed(current, target):
        allowed = ", ".join(sorted(ALLOWED[current])) or "nothing (it is final)"
        raise Conflict(
            f"A referral that is {current} cannot become {target}; it can become: {allowed}.",
            rule="referral_lifecycle",
        )
    if not may_perform(direction, current, target, side):
        who = "sender" if side is recipient(direction) else "recipient"
        raise Forbidden(f"Only the {who} of this referral can make it {target}.", rule=f"referral_{who}_only")
    check_texts(target, reason=reason, outcome=outcome)


def check_texts(target: ReferralStatus, *, reason: str | None, outcome: str | None) -> None:
    """A reason exactly for declined/cancelled, an outcome exactly for completed."""
    errors: list[FieldError] = []
    # Each field's phrase is written out: an article made up from the name reads "A outcome".
    for name, phrase, value, wanted in (
        ("reason", "A reason", reason, target in NEEDS_REASON),
        ("outcome", "An outcome", outcome, target is S.completed),
    ):
        if wanted and not (value and value.strip()):
            errors.append(
                FieldError(("body", name), f"{phrase} is required for {target}.", f"{name}_required")
            )
        elif not wanted and value is not None:
            errors.append(FieldError(("body", name), f"No {name} is taken for {target}.", "not_applicable"))
    if errors:
        raise ValidationFailed(errors)


def member_role_for(birth_date: date | None, today: date) -> MemberRole:
    """The role of a person new to the file, from their age when known."""
    if birth_date is None:
        return MemberRole.other
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    return MemberRole.child if age < 18 else MemberRole.other_adult


def partner_sees_buurt(direction: Direction, shared_categories: list[str]) -> bool:
    """The buurt travels to a partner only as part of the address (it sent it itself when inbound)."""
    return direction is Direction.inbound or "address" in shared_categories


def check_plan_action(performer_kind: str, done: bool, linked_status: str | None) -> None:
    """A referral carries out an open partner action, one that no open referral carries out yet."""
    if performer_kind != "partner":
        raise ValidationFailed(
            [
                FieldError(
                    ("body", "plan_action_id"),
                    "Only a partner action is carried out by a referral.",
                    "plan_action_not_partner",
                )
            ]
        )
    if done:
        raise ValidationFailed(
            [FieldError(("body", "plan_action_id"), "This action is done already.", "plan_action_done")]
        )
    if linked_status is not None and ReferralStatus(linked_status) not in TERMINAL:
        raise Conflict(
            "An open referral carries out this action already.", rule="plan_action_already_referred"
        )
