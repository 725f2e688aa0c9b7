"""The access log in plain words: who (a name or a role), from which organisation, did what to which
part of the file, for what, and whether it was allowed. Pure functions of a row (no database).

Names of individual workers (and of the privacy officer and administrators) are shown only when the
municipality chose so (``settings.self_service_worker_names``); otherwise their role stands in. A
partner organisation is always named: an organisation that received data is what the AVG's right of
access is about. Another member of the household is never named.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.self_service.schemas import AccessView
from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome
from app.security.scopes import Role

ROLES: dict[str, str] = {
    Role.generalist: "generalist of the wijkteam",
    Role.team_lead: "team lead of the wijkteam",
    Role.partner: "partner organisation",
    Role.analyst: "statistics of the municipality",
    Role.resident: "member of a resident network",
    Role.network_coordinator: "coordinator of a resident network",
    Role.privacy_officer: "privacy officer",
    Role.admin: "administrator",
    Role.household_member: "household member",
    Role.policy_officer: "policy staff of the municipality",
}

# Who, when no name is shown.
_SOMEONE: dict[str, str] = {
    Role.generalist: "A generalist of the wijkteam",
    Role.team_lead: "A team lead of the wijkteam",
    Role.privacy_officer: "The privacy officer",
    Role.admin: "An administrator",
}

WHAT: dict[str, str] = {
    "household": "your household's file",
    "household_overview": "the overview of your household's file",
    "household_offers": "which services and initiatives of your neighbourhood fit your household",
    "member": "personal details",
    "plan": "your household's plan",
    "plan_goal": "a goal of your household's plan",
    "plan_action": "an action of your household's plan",
    "plan_evaluation": "an evaluation of your household's plan",
    "plan_evaluation_view": "a view on an evaluation of your household's plan",
    "consent": "consents",
    "contact_moment": "notes of contacts with the team",
    "contact": "notes of contacts with the team",
    "assessment": "self-sufficiency scores",
    "assessment_summary": "self-sufficiency scores",
    "network_person": "your network map",
    "referral": "a referral",
    "assignment": "who works on your household's file",
    "access_log": "the list of who accessed your data",
    "subject_access": "everything held on you (an export)",
    "self_service": "your self-service settings",
    "activation_code": "an activation code for your sign-in",
    "policy_signal": "a policy signal your situation is an example of (it holds no personal data)",
}

ACTIONS: dict[str, str] = {
    AccessAction.read: "looked at",
    AccessAction.list: "saw in a list",
    AccessAction.search: "found in a search",
    AccessAction.create: "added to",
    AccessAction.update: "changed",
    AccessAction.delete: "removed from",
    AccessAction.export: "exported",
    AccessAction.break_glass: "opened with emergency access (break-glass)",
    AccessAction.assign: "changed",
    AccessAction.sync: "copied to a work phone",
}
CHANGES = frozenset({AccessAction.create, AccessAction.update, AccessAction.delete, AccessAction.assign})

PURPOSES: dict[str, str] = {
    "casework": "support of your household by the wijkteam",
    "casework:bsn_revealed": "support of your household by the wijkteam (your BSN was shown)",
    "referral": "a referral between the wijkteam and a partner organisation",
    "subject_access_request": "a request to see everything held on you",
    "privacy_oversight": "supervision of privacy",
    "self_service": "self-service by a member of your household",
    "policy_signal": "a signal to the municipality that a rule blocks a good solution",
}

_OUTCOMES: dict[str, str] = {
    AccessOutcome.denied: " (refused: nothing was shown)",
    AccessOutcome.failed: " (tried: nothing changed)",
}

_WORKERS = frozenset({Role.generalist, Role.team_lead})
_STAFF = frozenset({Role.privacy_officer, Role.admin})


def _label(table: Mapping[str, str], code: str) -> str:
    return table.get(code, code.replace("_", " "))


@dataclass(frozen=True)
class Wording:
    """How one member's access log is worded."""

    household_id: uuid.UUID
    worker_names: bool

    def who(self, row: Mapping[Any, Any]) -> str:
        role = row["actor_role"]
        if role in _WORKERS | _STAFF and self.worker_names:
            name = row["worker_name"] or row["user_name"]
            if name:
                return str(name)
        if role == Role.partner:
            return str(row["organisation_name"] or "A partner organisation")
        if role == Role.household_member:
            same = row["actor_household_id"] == self.household_id
            return "A member of your household" if same else "A member of another household"
        return _SOMEONE.get(role, f"Someone ({_label(ROLES, role)})")

    def organisation(self, row: Mapping[Any, Any]) -> str | None:
        role = row["actor_role"]
        if role in _WORKERS:
            return row["worker_teams"]
        if role == Role.partner:
            return row["organisation_name"]
        if role in _STAFF:
            return row["municipality"]
        return None

    def view(self, row: Mapping[Any, Any]) -> AccessView:
        action, outcome = AccessAction(row["action"]), AccessOutcome(row["outcome"])
        who, role, organisation = self.who(row), _label(ROLES, row["actor_role"]), self.organisation(row)
        what, purpose = _label(WHAT, row["resource"]), _label(PURPOSES, row["purpose"])
        by = f"{who} ({role}{', ' + organisation if organisation else ''})"
        summary = f"{by} {ACTIONS[action]} {what}{_OUTCOMES.get(outcome, '')}, for {purpose}."
        if action is AccessAction.break_glass and row["reason"]:
            summary += f" Stated reason: {row['reason']}"
        return AccessView(
            id=row["id"],
            occurred_at=row["occurred_at"],
            who=who,
            role=role,
            organisation=organisation,
            action=action,
            change=action in CHANGES,
            what=what,
            purpose=purpose,
            outcome=outcome,
            break_glass=action is AccessAction.break_glass,
            reason=row["reason"] if action is AccessAction.break_glass else None,
            summary=summary,
        )
