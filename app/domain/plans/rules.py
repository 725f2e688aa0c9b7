"""Pure rules of the plans context (unit-tested without a database).

* One household, one plan: exactly one ACTIVE version per household (also a partial unique index).
  A new version names the version it supersedes (``supersedes_id``, null for the first plan); when
  that is no longer the active one, someone else made a version meanwhile: 409 ``stale_plan_version``
  instead of silently replacing their work.
* History is read-only: only the active version changes (409 ``plan_not_active``).
* Once the household agreed to a version, its content is what they agreed to. Progress may still
  be recorded (an action done, a due date moved, the evaluation date moved); anything else (goals,
  action wording or performer, new or removed goals and actions) needs a new version (409
  ``plan_agreed``).
* An agreed plan has an evaluation date: the one given, or ``PlanPolicy.evaluation_months`` after the
  agreement; each evaluation sets the next (given, or the same cycle after it). An evaluation covers
  every goal of the version exactly once, and only an agreed, active version is evaluated.
* A plan ends in one of two ways: a new version supersedes it, or it is closed with a reason (and it
  is closed, reason ``household_closed``, when the household's file closes). Closed versions are
  history like superseded ones. A new version may carry forward the open goals of the one it
  supersedes: those whose last evaluation was partly or not reached, or that were never evaluated.
* Performer links must fit the performer: a network member names a person of this household's
  network map; a worker may name a worker of the household's team; nothing else carries a link.
  The referral of a partner action is set by the referrals context (never typed in) and carries over
  to a new version through ``continues_action_id``.
* An action may name what takes it up (``directory.offers``): a service of the sociale kaart (any
  performer) or a running resident initiative of the household's buurt (the household, a network
  member or a volunteer joins it: the collective answer to an individual question), not both.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from app.domain.errors import Conflict, FieldError
from app.domain.plans.models import OPEN_RESULTS, GoalResult, PerformerKind, PlanStatus

# What may change on an agreed version: progress, not content.
AGREED_PLAN_FIELDS = frozenset({"evaluation_date"})
AGREED_ACTION_FIELDS = frozenset({"done", "due_date"})


def ensure_supersedes_active(active_id: uuid.UUID | None, supersedes_id: uuid.UUID | None) -> None:
    if active_id != supersedes_id:
        raise Conflict(
            "Another plan version was made meanwhile; read the active plan and build on it.",
            rule="stale_plan_version",
        )


def ensure_active(status: str) -> None:
    if status != PlanStatus.active:
        raise Conflict(
            "Only the active plan version can change; older versions are history.", rule="plan_not_active"
        )


def ensure_change_allowed(
    agreed: bool, changed: Iterable[str] | None, allowed: frozenset[str] = frozenset()
) -> None:
    """``changed`` are the fields a request changes (None: it adds or removes a goal or action)."""
    if not agreed:
        return
    if changed is None or not set(changed) <= allowed:
        raise Conflict(
            "The household agreed to this version; make a new version to change its content.",
            rule="plan_agreed",
        )


# Who can take part in a resident initiative: the household, a person of its network, a volunteer.
JOINS_INITIATIVES = frozenset(
    {PerformerKind.household, PerformerKind.network_member, PerformerKind.volunteer}
)


def performer_link_problems(
    kind: PerformerKind,
    *,
    network_person_id: uuid.UUID | None,
    worker_id: uuid.UUID | None,
    service_id: uuid.UUID | None = None,
    initiative_id: uuid.UUID | None = None,
) -> list[tuple[str, str, str]]:
    """(field, message, rule) for links that do not fit the performer kind, or each other."""
    problems: list[tuple[str, str, str]] = []
    if initiative_id is not None and service_id is not None:
        problems.append(("initiative_id", "Name a service or an initiative, not both.", "one_offer"))
    elif initiative_id is not None and kind not in JOINS_INITIATIVES:
        problems.append(
            (
                "initiative_id",
                "An initiative is joined by the household, a network member or a volunteer.",
                "performer_link_mismatch",
            )
        )
    if kind == PerformerKind.network_member and network_person_id is None:
        problems.append(
            ("network_person_id", "A network member action names a person of the network map.", "missing")
        )
    if kind != PerformerKind.network_member and network_person_id is not None:
        problems.append(
            ("network_person_id", "Only for performer_kind network_member.", "performer_link_mismatch")
        )
    if kind != PerformerKind.worker and worker_id is not None:
        problems.append(("worker_id", "Only for performer_kind worker.", "performer_link_mismatch"))
    return problems


@dataclass(frozen=True)
class PlanPolicy:
    """The configured cycle (``Settings.plan_evaluation_months``)."""

    evaluation_months: int = 3


def months_after(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter: 31 Jan + 1 = 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def ensure_agreed(agreed: bool) -> None:
    if not agreed:
        raise Conflict(
            "Only a version the household agreed to is evaluated; record the agreement first.",
            rule="plan_not_agreed",
        )


def goal_result_problems(goal_ids: Sequence[uuid.UUID], given: Sequence[uuid.UUID]) -> list[FieldError]:
    """Every goal of the version once: unknown and repeated goals by position, missing ones at ``goals``."""
    known = set(goal_ids)
    errors: list[FieldError] = []
    seen: set[uuid.UUID] = set()
    for index, goal_id in enumerate(given):
        loc = ("body", "goals", index, "goal_id")
        if goal_id not in known:
            errors.append(FieldError(loc, "Not a goal of this plan version.", "goal_not_in_plan"))
        elif goal_id in seen:
            errors.append(FieldError(loc, "This goal is evaluated twice.", "goal_evaluated_twice"))
        seen.add(goal_id)
    if known - seen:
        errors.append(
            FieldError(
                ("body", "goals"),
                f"Evaluate every goal of the version: {len(known - seen)} missing.",
                "goals_missing",
            )
        )
    return errors


def is_open(last_result: str | None) -> bool:
    """A goal still open after its last evaluation (or never evaluated) is carried forward."""
    return last_result is None or GoalResult(last_result) in OPEN_RESULTS
