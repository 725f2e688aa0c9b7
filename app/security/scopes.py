"""Scopes say which kind of data a caller may touch; roles bundle the scopes a kind of caller may hold.
Which objects is said by the object rules in the services, always on top of the scopes."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    cases_read = "cases:read"
    cases_write = "cases:write"
    cases_assign = "cases:assign"
    bsn_read = "bsn:read"
    referrals_read = "referrals:read"
    referrals_write = "referrals:write"
    initiatives_read = "initiatives:read"
    initiatives_write = "initiatives:write"
    networks_manage = "networks:manage"
    services_write = "services:write"
    stats_read = "stats:read"
    audit_read = "audit:read"
    admin = "admin"
    self_read = "self:read"
    self_write = "self:write"
    signals_read = "signals:read"
    signals_write = "signals:write"
    signals_answer = "signals:answer"


SCOPE_DESCRIPTIONS: dict[str, str] = {
    Scope.cases_read: "Read the case files of households in your caseload",
    Scope.cases_write: "Write case files of households in your caseload",
    Scope.cases_assign: "Assign and hand over coordinators (team leads)",
    Scope.bsn_read: "Reveal citizen service numbers (granted per worker)",
    Scope.referrals_read: "Read referrals you sent or received",
    Scope.referrals_write: "Post and update referrals",
    Scope.initiatives_read: "Read resident initiatives and networks",
    Scope.initiatives_write: "Propose and update resident initiatives",
    Scope.networks_manage: "Manage members, year plans and grants of your networks",
    Scope.services_write: "Maintain your own organisation's entries in the sociale kaart",
    Scope.stats_read: "Read aggregates (never individuals)",
    Scope.audit_read: "Read the access log and subject-access exports",
    Scope.admin: "Organisation set-up (no case data)",
    Scope.self_read: "Household members: read your own data, your household's plan and who accessed them",
    Scope.self_write: "Household members: withdraw your consents, agree to your household's plan",
    Scope.signals_read: "Read policy signals: your team's, or (policy staff) the submitted ones",
    Scope.signals_write: "Write your team's policy signals; team leads submit them",
    Scope.signals_answer: "Policy staff: take, answer and close submitted policy signals",
}


class Role(StrEnum):
    generalist = "generalist"
    team_lead = "team_lead"
    partner = "partner"
    analyst = "analyst"
    resident = "resident"
    network_coordinator = "network_coordinator"
    privacy_officer = "privacy_officer"
    admin = "admin"
    # A member of a household the team supports, signed in to see their own file (self-service).
    # Not the network ``resident``: that is a member of a resident network (the public side).
    household_member = "household_member"
    # The municipality's policy staff: reads submitted policy signals and answers them; no case data.
    # Not bound to a municipality: the account reads and answers the signals of every municipality in
    # the deployment, so a deployment serves one municipality (docs/policy-signals.md).
    policy_officer = "policy_officer"


_CASEWORK = frozenset(
    {
        Scope.cases_read,
        Scope.cases_write,
        Scope.referrals_read,
        Scope.referrals_write,
        Scope.initiatives_read,
        Scope.signals_read,
        Scope.signals_write,
    }
)
_RESIDENT = frozenset({Scope.initiatives_read, Scope.initiatives_write})

# The most a role can ever hold. bsn:read is never implied by a role: it is granted per worker.
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.generalist: _CASEWORK,
    Role.team_lead: _CASEWORK | {Scope.cases_assign},
    Role.partner: frozenset({Scope.referrals_read, Scope.referrals_write, Scope.services_write}),
    Role.analyst: frozenset({Scope.stats_read, Scope.initiatives_read}),
    Role.resident: _RESIDENT,
    Role.network_coordinator: _RESIDENT | {Scope.networks_manage},
    Role.privacy_officer: frozenset({Scope.audit_read}),
    Role.admin: frozenset({Scope.admin, Scope.services_write}),
    Role.household_member: frozenset({Scope.self_read, Scope.self_write}),
    Role.policy_officer: frozenset({Scope.signals_read, Scope.signals_answer}),
}

# Roles that may be granted bsn:read in addition to their role scopes.
BSN_ELIGIBLE_ROLES = frozenset({Role.generalist, Role.team_lead})

# Roles that sign in as people (authorization code + PKCE) and those that are machine clients.
PERSON_ROLES = frozenset(
    {
        Role.generalist,
        Role.team_lead,
        Role.resident,
        Role.network_coordinator,
        Role.privacy_officer,
        Role.admin,
        Role.household_member,
        Role.policy_officer,
    }
)
MACHINE_ROLES = frozenset({Role.partner, Role.analyst})


def allowed_scopes(role: Role, *, bsn_read: bool = False) -> frozenset[Scope]:
    scopes = ROLE_SCOPES[role]
    if bsn_read and role in BSN_ELIGIBLE_ROLES:
        scopes = scopes | {Scope.bsn_read}
    return scopes


def parse_scope(value: str | None) -> set[str]:
    return set(value.split()) if value else set()
