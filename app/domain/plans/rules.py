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
* Performer links must fit the performer: a network member names a person of this household's
  network map; a worker may name a worker of the household's team; nothing else carries a link.
  The referral of a partner action is set by the referrals context (never typed in) and carries over
  to a new version through ``continues_action_id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from app.domain.errors import Conflict
from app.domain.plans.models import PerformerKind, PlanStatus

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


def performer_link_problems(
    kind: PerformerKind, *, network_person_id: uuid.UUID | None, worker_id: uuid.UUID | None
) -> list[tuple[str, str, str]]:
    """(field, message, rule) for links that do not fit the performer kind."""
    problems: list[tuple[str, str, str]] = []
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
