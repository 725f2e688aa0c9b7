"""Pure rules of the initiatives context (unit-tested without a database)."""

from __future__ import annotations

from app.domain.errors import Conflict
from app.domain.initiatives.models import InitiativeStatus as S

# The lifecycle: idea -> requested -> granted | rejected; granted -> running -> completed.
TRANSITIONS: dict[S, frozenset[S]] = {
    S.idea: frozenset({S.requested}),
    S.requested: frozenset({S.granted, S.rejected}),
    S.granted: frozenset({S.running}),
    S.rejected: frozenset(),
    S.running: frozenset({S.completed}),
    S.completed: frozenset(),
}

# Editable fields (title, summary, themes, ...) may change until the network has decided.
EDITABLE_STATUSES = frozenset({S.idea, S.requested})

RESIDENT_MAJORITY_RULE = "network_resident_majority"
BUDGET_RULE = "year_plan_budget_exceeded"
TRANSITION_RULE = "initiative_status_transition"


def check_transition(current: str, target: S) -> None:
    """409 unless ``current -> target`` is a step of the lifecycle."""
    if target not in TRANSITIONS[S(current)]:
        raise Conflict(f"An initiative cannot go from '{current}' to '{target}'.", rule=TRANSITION_RULE)


def check_editable(current: str) -> None:
    if S(current) not in EDITABLE_STATUSES:
        raise Conflict(
            "An initiative can only be edited until the network has decided on it.",
            rule="initiative_not_editable",
        )


def residents_hold_majority(residents: int, members: int) -> bool:
    """At least half of the members are residents (an empty network breaks nothing)."""
    return 2 * residents >= members


def check_resident_majority(residents: int, members: int) -> None:
    if not residents_hold_majority(residents, members):
        raise Conflict(
            "At least 50% of a resident network's members must be residents.",
            rule=RESIDENT_MAJORITY_RULE,
        )


def check_budget(budget_cents: int, committed_cents: int, amount_cents: int) -> None:
    """A grant may not take what the year plan has committed (granted minus returned) past its budget."""
    if committed_cents + amount_cents > budget_cents:
        raise Conflict("This grant would exceed the remaining budget of the year plan.", rule=BUDGET_RULE)


def check_budget_covers_grants(budget_cents: int, committed_cents: int) -> None:
    if budget_cents < committed_cents:
        raise Conflict(
            "A year plan's budget cannot be lower than what it has already granted.",
            rule="year_plan_budget_below_granted",
        )


def check_grant_amount(requested_cents: int | None, amount_cents: int) -> None:
    if requested_cents is None or amount_cents > requested_cents:
        raise Conflict("A grant cannot be larger than the amount requested.", rule="grant_exceeds_request")


def check_spent(granted_cents: int | None, spent_cents: int | None) -> None:
    """The closing report accounts for the grant: it cannot have spent more than was granted."""
    if spent_cents is not None and spent_cents > (granted_cents or 0):
        raise Conflict(
            "An initiative cannot report spending more than it was granted.", rule="spent_exceeds_grant"
        )


# -- decisions in a meeting -----------------------------------------------------------------------

QUORUM_RULE = "meeting_quorum"
RESIDENT_SHARE_RULE = "meeting_resident_share"
CONFLICT_OF_INTEREST_RULE = "conflict_of_interest"


def meeting_can_decide(present: int, residents: int, quorum: int, resident_share_percent: int) -> bool:
    """A quorum present, of whom at least the network's share (never under half) are residents."""
    return present >= quorum and 100 * residents >= resident_share_percent * present


def check_meeting_can_decide(present: int, residents: int, quorum: int, resident_share_percent: int) -> None:
    if present < quorum:
        raise Conflict(
            f"The meeting had {present} members present; the network decides with at least {quorum}.",
            rule=QUORUM_RULE,
        )
    if not meeting_can_decide(present, residents, quorum, resident_share_percent):
        raise Conflict(
            f"At least {resident_share_percent}% of the members present must be residents to decide.",
            rule=RESIDENT_SHARE_RULE,
        )


def outcome_of(votes_for: int, votes_against: int) -> str:
    """A grant needs more votes for than against; a tie or fewer rejects (abstentions do not count)."""
    return "granted" if votes_for > votes_against else "rejected"


def check_outcome(voted: str, recorded: str) -> None:
    if voted != recorded:
        raise Conflict(
            f"The votes decide '{voted}': the decision recorded must be the meeting's.",
            rule="decision_contradicts_votes",
        )


def check_not_conflicted(conflicted: bool) -> None:
    if conflicted:
        raise Conflict(
            "A member who is the initiator of this initiative, or linked to it, does not vote on it.",
            rule=CONFLICT_OF_INTEREST_RULE,
        )
